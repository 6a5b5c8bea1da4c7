"""Wrong implementations of assignment 08_serving, part by part: each must lose points on its part.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_PARITY = '''ref, test = np.asarray(ref), np.asarray(test)
if ref.shape != test.shape: raise ValueError("shapes differ")
if ref.ndim == 2:
    keep = np.ones(ref.shape[0], bool)
elif ref.ndim == 3:
    keep = np.asarray(attention_mask).astype(bool)
    if keep.shape != ref.shape[:2]: raise ValueError("mask shape")
else:
    raise ValueError("ndim")
if not keep.any(): raise ValueError("nothing counts")
diff = np.abs(ref.astype(np.float64) - test.astype(np.float64))[keep]
agree = (ref.argmax(-1) == test.argmax(-1))[keep]
return {"max_abs_diff": float(diff.max()), "argmax_agreement": float(agree.mean())}'''
_SHAPES = '''rows = []
for i, (b, s) in enumerate(shapes):
    ids, mask = random_batch(b, s, vocab_size, seed + i)
    rows.append({"batch": b, "seq": s, **parity(ref_fn(ids, mask), test_fn(ids, mask), mask)})
return rows'''

def _p1(old="", new="", shapes_old="", shapes_new=""):
    assert old in _PARITY and shapes_old in _SHAPES
    return {"p1_solution": [_PARITY.replace(old, new) if old else _PARITY, _SHAPES.replace(shapes_old, shapes_new) if shapes_old else _SHAPES]}

_BATCHED = '''if max_batch < 1: raise ValueError("max_batch")
out = [None] * len(requests)
by_key = {}
for i, (key, items) in enumerate(requests): by_key.setdefault(key, []).append(i)
for key, idx in by_key.items():
    flat = [x for i in idx for x in requests[i][1]]
    results = []
    for s in range(0, len(flat), max_batch):
        batch = flat[s:s + max_batch]
        got = list(fn(key, batch))
        if len(got) != len(batch): raise ValueError("count")
        results += got
    pos = 0
    for i in idx:
        n = len(requests[i][1]); out[i] = results[pos:pos + n]; pos += n
return out'''

def _p2(old, new):
    assert old in _BATCHED
    return {"p2_solution": _BATCHED.replace(old, new)}

_MODEL = '''class ClassifyRequest(BaseModel):
    model_config = {{"extra": "{extra}", "strict": {strict}{more}}}
    texts: {texts_type} = Field(min_length=1, max_length=max_texts)
    adapter: {adapter}
    @field_validator("texts")
    @classmethod
    def _texts(cls, v):
        for i, t in enumerate(v):
            if not {low} <= {length} <= {high}: raise ValueError(f"texts[{{i}}] has {{len(t)}} characters")
            {utf8}
        return v
return ClassifyRequest'''
_UTF8 = 't.encode("utf-8")'
def _model(extra="forbid", strict=True, more="", texts_type="list[str]", low=1, high="max_chars", length="len(t)", utf8=_UTF8,
           adapter="str | None = Field(None, max_length=64)"):
    return {"p3_solution": _MODEL.format(extra=extra, strict=strict, more=more, texts_type=texts_type, low=low, high=high, length=length,
                                         utf8=utf8 or "pass", adapter=adapter)}

_PSI = '''if bins < 1: raise ValueError("bins")
reference, current = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
if reference.size == 0 or current.size == 0: raise ValueError("empty")
edges = {edges}
r = np.bincount(np.searchsorted(edges, reference, side="{side}"), minlength=len(edges) + 1) / reference.size
c = np.bincount(np.searchsorted(edges, current, side="{side}"), minlength=len(edges) + 1) / current.size
{floor}
return float({formula})'''
def _psi(edges="np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])", floor="r, c = np.maximum(r, eps), np.maximum(c, eps)",
         formula="np.sum((c - r) * np.log(c / r))", side="right", check="", first=""):
    code = _PSI.format(edges=edges, floor=floor, formula=formula, side=side)
    return {"p4_solution": first + (code.replace('if bins < 1: raise ValueError("bins")\n', check) if check is not None else code)}

def _app(body, handler="async def classify(req: Texts):"):
    return {"p5_solution": f'''app = FastAPI()

@app.get("/health")
async def health():
    return {{"status": "ok"}}

@app.post("/classify")
{handler}
{body}
    return {{"scores": scores}}

return app'''}

WRONG = {
    "p1": {"padded_positions_count": _p1("keep = np.asarray(attention_mask).astype(bool)", "keep = np.ones(ref.shape[:2], bool)"),
           "relative_difference": _p1("diff = np.abs(ref.astype(np.float64) - test.astype(np.float64))[keep]",
                                      "diff = (np.abs(ref - test) / np.maximum(np.abs(ref), 1e-12))[keep]"),
           "mask_multiplied": _p1("diff = np.abs(ref.astype(np.float64) - test.astype(np.float64))[keep]",
                                  "diff = (np.abs(ref.astype(np.float64) - test.astype(np.float64)) * (keep[..., None] if ref.ndim == 3 else 1)).reshape(-1)"),
           "agreement_counts_padding": _p1("agree = (ref.argmax(-1) == test.argmax(-1))[keep]", "agree = ref.argmax(-1) == test.argmax(-1)"),
           "argmax_on_axis_1": _p1("agree = (ref.argmax(-1) == test.argmax(-1))[keep]",
                                   "agree = (ref.argmax(1) == test.argmax(1)) if ref.ndim == 2 else (ref.argmax(1) == test.argmax(1))[:, :1].repeat(ref.shape[1], 1)[keep]"),
           "classifier_rows_from_mask": _p1("keep = np.ones(ref.shape[0], bool)", "keep = np.asarray(attention_mask).astype(bool).reshape(ref.shape[0], -1).any(1)"),
           "no_mask_shape_check": _p1('    if keep.shape != ref.shape[:2]: raise ValueError("mask shape")\n', ""),
           "no_ndim_check": _p1('else:\n    raise ValueError("ndim")', 'else:\n    keep = np.ones(ref.shape[:-1], bool) if ref.ndim else np.ones((), bool)'),
           "seeds_the_global_generator": _p1(shapes_old="    ids, mask = random_batch(b, s, vocab_size, seed + i)",
                                             shapes_new="    torch.manual_seed(seed + i)\n    ids, mask = random_batch(b, s, vocab_size, seed + i)"),
           "same_seed_for_every_shape": _p1(shapes_old="seed + i)", shapes_new="seed)"),
           "seeds_from_one": _p1(shapes_old="seed + i)", shapes_new="seed + i + 1)"),
           "test_model_called_twice": _p1(shapes_old="    rows.append(", shapes_new="    test_fn(ids, mask)\n    rows.append("),
           "batch_and_seq_swapped": _p1(shapes_old='{"batch": b, "seq": s,', shapes_new='{"batch": s, "seq": b,')},
    "p2": {"one_call_per_request": {"p2_solution": "return [list(fn(key, items)) if items else [] for key, items in requests]"},
           "mixes_keys": {"p2_solution": "flat = [(k, x) for k, items in requests for x in items]\nres = []\nfor s in range(0, len(flat), max_batch):\n    chunk = flat[s:s + max_batch]\n    res += list(fn(chunk[0][0], [x for _, x in chunk]))\nout, pos = [], 0\nfor _, items in requests:\n    out.append(res[pos:pos + len(items)]); pos += len(items)\nreturn out"},
           "whole_key_in_one_call": _p2("""    for s in range(0, len(flat), max_batch):
        batch = flat[s:s + max_batch]""", """    for batch in ([flat] if flat else []):"""),
           "keys_reversed_order": _p2("by_key.setdefault(key, []).append(i)", "by_key.setdefault(key, []).insert(0, i)"),
           "balanced_batches": _p2("""    for s in range(0, len(flat), max_batch):
        batch = flat[s:s + max_batch]""", """    k = -(-len(flat) // max_batch)
    for j in range(k):
        batch = flat[j * len(flat) // k:(j + 1) * len(flat) // k]"""),
           "no_result_count_check": _p2('        if len(got) != len(batch): raise ValueError("count")\n', ""),
           "negative_max_batch_accepted": _p2('if max_batch < 1: raise ValueError("max_batch")', 'if max_batch == 0: raise ValueError("max_batch")'),
           "batch_as_tuple": _p2("got = list(fn(key, batch))", "got = list(fn(key, tuple(batch)))"),
           "consumes_the_requests": _p2("for i in idx:\n        n = len(requests[i][1]); out[i] = results[pos:pos + n]; pos += n",
                                        "for i in idx:\n        n = len(requests[i][1]); out[i] = results[pos:pos + n]; pos += n\n        requests[i][1].clear()")},
    "p3": {"lone_surrogates_pass": _model(utf8=None),
           "exclusive_upper_bound": _model(high="max_chars - 1"),
           "extra_fields_ignored": _model(extra="ignore"),
           "empty_text_allowed": _model(low=0),
           "untyped_items": _model(texts_type="list"),
           "numbers_become_text": _model(strict=False, more=', "coerce_numbers_to_str": True'),
           "strips_whitespace": _model(more=', "str_strip_whitespace": True'),
           "length_in_bytes": _model(length='len(t.encode("utf-8", "surrogatepass"))'),
           "adapter_unlimited": _model(adapter="str | None = None"),
           "adapter_required": _model(adapter="str | None = Field(max_length=64)")},
    "p4": {"equal_width_bins": _psi(edges="np.linspace(reference.min(), reference.max(), bins + 1)[1:-1]"),
           "no_floor": _psi(floor="pass"),
           "bins_from_current": _psi(edges="np.unique(np.quantile(current, np.linspace(0, 1, bins + 1))[1:-1])"),
           "one_sided_kl": _psi(formula="np.sum(c * np.log(c / r))"),
           "left_closed_bins": _psi(side="left"),
           "renormalised_after_floor": _psi(floor="r, c = np.maximum(r, eps), np.maximum(c, eps)\nr, c = r / r.sum(), c / c.sum()"),
           "nearest_quantiles": _psi(edges="np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1), method='nearest')[1:-1])"),
           "outside_range_dropped": _psi(edges="np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1))[1:-1])\n"
                                               "current = current[(current >= reference.min()) & (current <= reference.max())]\n"
                                               "current = current if current.size else reference[:1]"),
           "bins_not_checked": _psi(check=""),
           "sorts_in_place": _psi(first="if isinstance(reference, np.ndarray): reference.sort()\n")},
    "p5": {"still_blocking": _app("    scores = model(req.texts)"),
           "yields_once_then_blocks": _app("    await asyncio.sleep(0)\n    scores = model(req.texts)"),
           "model_runs_before_the_executor": _app("    result = model(req.texts)\n    scores = await asyncio.get_running_loop().run_in_executor(None, lambda: result)"),
           "waits_on_the_worker": _app("    import concurrent.futures\n    with concurrent.futures.ThreadPoolExecutor(1) as pool:\n        scores = pool.submit(model, req.texts).result()"),
           "one_call_per_text": _app("    scores = [(await asyncio.to_thread(model, [t]))[0] for t in req.texts]"),
           "scores_rounded": _app("    scores = [round(s) for s in await asyncio.to_thread(model, req.texts)]")},
}
