"""Wrong implementations of assignment 08_serving, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_PARITY = '''ref, test = np.asarray(ref), np.asarray(test)
keep = np.asarray(attention_mask).astype(bool) if ref.ndim == 3 else np.ones(ref.shape[0], bool)
diff = np.abs(ref.astype(np.float64) - test.astype(np.float64))[keep]
agree = (ref.argmax(-1) == test.argmax(-1))[keep]
return {"max_abs_diff": float(diff.max()), "argmax_agreement": float(agree.mean())}'''
_SHAPES = '''rows = []
for i, (b, s) in enumerate(shapes):
    ids, mask = random_batch(b, s, vocab_size, seed + i)
    rows.append({"batch": b, "seq": s, **parity(ref_fn(ids, mask), test_fn(ids, mask), mask)})
return rows'''

_MODEL = '''class ClassifyRequest(BaseModel):
    model_config = {{"extra": "{extra}", "strict": True}}
    texts: {texts_type} = Field(min_length=1, max_length=max_texts)
    adapter: str | None = Field(None, max_length=64)
    @field_validator("texts")
    @classmethod
    def _texts(cls, v):
        for i, t in enumerate(v):
            if not {low} <= len(t) <= {high}: raise ValueError(f"texts[{{i}}] has {{len(t)}} characters")
            {utf8}
        return v
return ClassifyRequest'''
_UTF8 = 't.encode("utf-8")'
def _model(extra="forbid", texts_type="list[str]", low=1, high="max_chars", utf8=_UTF8):
    return _MODEL.format(extra=extra, texts_type=texts_type, low=low, high=high, utf8=utf8 or "pass")

_PSI = '''reference, current = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
if reference.size == 0 or current.size == 0: raise ValueError("empty")
edges = {edges}
r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / reference.size
c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / current.size
{floor}
return float({formula})'''
def _psi(edges="np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])", floor="r, c = np.maximum(r, eps), np.maximum(c, eps)",
         formula="np.sum((c - r) * np.log(c / r))"):
    return _PSI.format(edges=edges, floor=floor, formula=formula)

def _app(body):
    return f'''app = FastAPI()

@app.get("/health")
async def health():
    return {{"status": "ok"}}

@app.post("/classify")
async def classify(req: Texts):
{body}
    return {{"scores": scores}}

return app'''

WRONG = {
    "p1": {"padded_positions_count": {"p1_solution": [_PARITY.replace("if ref.ndim == 3 else np.ones(ref.shape[0], bool)", "if False else np.ones(ref.shape[:-1], bool)"), _SHAPES]},
           "relative_difference": {"p1_solution": [_PARITY.replace("diff = np.abs(ref.astype(np.float64) - test.astype(np.float64))[keep]",
                                                                   "diff = (np.abs(ref - test) / np.maximum(np.abs(ref), 1e-12))[keep]"), _SHAPES]},
           "seeds_the_global_generator": {"p1_solution": [_PARITY, _SHAPES.replace("    ids, mask = random_batch(b, s, vocab_size, seed + i)",
                                                                                   "    torch.manual_seed(seed + i)\n    ids, mask = random_batch(b, s, vocab_size, seed + i)")]},
           "same_seed_for_every_shape": {"p1_solution": [_PARITY, _SHAPES.replace("seed + i)", "seed)")]}},
    "p2": {"one_call_per_request": {"p2_solution": "return [list(fn(key, items)) if items else [] for key, items in requests]"},
           "mixes_keys": {"p2_solution": "flat = [(k, x) for k, items in requests for x in items]\nres = []\nfor s in range(0, len(flat), max_batch):\n    chunk = flat[s:s + max_batch]\n    res += list(fn(chunk[0][0], [x for _, x in chunk]))\nout, pos = [], 0\nfor _, items in requests:\n    out.append(res[pos:pos + len(items)]); pos += len(items)\nreturn out"},
           "whole_key_in_one_call": {"p2_solution": "out = [None] * len(requests)\nby_key = {}\nfor i, (key, items) in enumerate(requests): by_key.setdefault(key, []).append(i)\nfor key, idx in by_key.items():\n    flat = [x for i in idx for x in requests[i][1]]\n    results = list(fn(key, flat)) if flat else []\n    pos = 0\n    for i in idx:\n        n = len(requests[i][1]); out[i] = results[pos:pos + n]; pos += n\nreturn out"},
           "keys_reversed_order": {"p2_solution": "out = [None] * len(requests)\nby_key = {}\nfor i, (key, items) in enumerate(requests): by_key.setdefault(key, []).insert(0, i)\nfor key, idx in by_key.items():\n    flat = [x for i in idx for x in requests[i][1]]\n    results = []\n    for s in range(0, len(flat), max_batch): results += list(fn(key, flat[s:s + max_batch]))\n    pos = 0\n    for i in idx:\n        n = len(requests[i][1]); out[i] = results[pos:pos + n]; pos += n\nreturn out"}},
    "p3": {"lone_surrogates_pass": {"p3_solution": _model(utf8=None)},
           "exclusive_upper_bound": {"p3_solution": _model(high="max_chars - 1")},
           "extra_fields_ignored": {"p3_solution": _model(extra="ignore")},
           "empty_text_allowed": {"p3_solution": _model(low=0)},
           "untyped_items": {"p3_solution": _model(texts_type="list")}},
    "p4": {"equal_width_bins": {"p4_solution": _psi(edges="np.linspace(reference.min(), reference.max(), bins + 1)[1:-1]")},
           "no_floor": {"p4_solution": _psi(floor="pass")},
           "bins_from_current": {"p4_solution": _psi(edges="np.unique(np.quantile(current, np.linspace(0, 1, bins + 1))[1:-1])")},
           "one_sided_kl": {"p4_solution": _psi(formula="np.sum(c * np.log(c / r))")}},
    "p5": {"still_blocking": {"p5_solution": _app("    scores = model(req.texts)")},
           "yields_once_then_blocks": {"p5_solution": _app("    await asyncio.sleep(0)\n    scores = model(req.texts)")},
           "model_runs_before_the_executor": {"p5_solution": _app("    result = model(req.texts)\n    scores = await asyncio.get_running_loop().run_in_executor(None, lambda: result)")}},
}
