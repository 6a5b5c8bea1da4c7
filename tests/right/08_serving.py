"""Correct implementations of assignment 08_serving written differently from the reference: each must earn full marks.

{part: {variant name: {grade_id: code, or a list of codes for the solution regions in order}}}"""

_SHAPES = '''rows = []
for i, (b, s) in enumerate(shapes):
    ids, mask = random_batch(b, s, vocab_size, seed + i)
    rows.append({"batch": b, "seq": s, **parity(ref_fn(ids, mask), test_fn(ids, mask), mask)})
return rows'''

_TORCH_PARITY = '''r, t = torch.as_tensor(np.asarray(ref)), torch.as_tensor(np.asarray(test))
if r.shape != t.shape or r.dim() not in (2, 3):
    raise ValueError(f"bad logits: {tuple(r.shape)} vs {tuple(t.shape)}")
if r.dim() == 3:
    m = torch.as_tensor(np.asarray(attention_mask)).bool()
    if m.shape != r.shape[:2]: raise ValueError(f"mask {tuple(m.shape)} for logits {tuple(r.shape)}")
else:
    m = torch.ones(r.shape[0], dtype=torch.bool)
if not bool(m.any()): raise ValueError("nothing to compare")
d = (r.double() - t.double()).abs()[m]
return {"max_abs_diff": d.max().item(), "argmax_agreement": (r.argmax(-1) == t.argmax(-1))[m].double().mean().item()}'''

_LOOP_PARITY = '''ref, test = np.asarray(ref), np.asarray(test)
if ref.shape != test.shape: raise ValueError("ref and test differ in shape")
if ref.ndim not in (2, 3): raise ValueError("logits must be 2-d or 3-d")
if ref.ndim == 3:
    mask = np.asarray(attention_mask)
    if mask.shape != ref.shape[:2]: raise ValueError("mask does not fit")
    positions = [(i, t) for i in range(ref.shape[0]) for t in range(ref.shape[1]) if mask[i, t]]
else:
    positions = [(i,) for i in range(ref.shape[0])]
if not positions: raise ValueError("no position to compare")
worst, same = 0.0, 0
for p in positions:
    a, b = ref[p].astype(np.float64), test[p].astype(np.float64)
    worst = max(worst, float(np.max(np.abs(a - b))))
    same += int(np.argmax(ref[p]) == np.argmax(test[p]))
return {"argmax_agreement": same / len(positions), "max_abs_diff": worst}'''

_WHERE_PARITY = '''ref, test = np.asarray(ref), np.asarray(test)
if ref.shape != test.shape or ref.ndim not in (2, 3): raise ValueError("shapes")
keep = np.ones(ref.shape[:1], bool) if ref.ndim == 2 else np.asarray(attention_mask) != 0
if ref.ndim == 3 and keep.shape != ref.shape[:2]: raise ValueError("mask shape")
if keep.sum() == 0: raise ValueError("empty")
diff = np.where(keep[..., None], np.abs(ref - test), 0)           # in the input dtype, padded positions zeroed
agree = np.count_nonzero((np.argmax(ref, axis=-1) == np.argmax(test, axis=-1)) & keep)
return dict(max_abs_diff=float(diff.max()), argmax_agreement=float(agree / keep.sum()))'''

_BATCHED_DEQUE = '''from collections import defaultdict, deque
if not max_batch >= 1: raise ValueError(f"max_batch {max_batch}")
queues = defaultdict(list)                           # key -> [(request index, item)] in arrival order
for i, (key, items) in enumerate(requests):
    queues[key].extend((i, x) for x in items)
out = [[] for _ in requests]
for key in reversed(list(queues)):                   # any order of keys will do
    q = deque(queues[key])
    while q:
        chunk = [q.popleft() for _ in range(min(max_batch, len(q)))]
        res = fn(key, [x for _, x in chunk])
        if len(res) != len(chunk): raise ValueError(f"{len(res)} results for {len(chunk)} items")
        for (i, _), y in zip(chunk, res): out[i].append(y)
return out'''

_BATCHED_ISLICE = '''import itertools
if max_batch < 1: raise ValueError("max_batch must be positive")
keys = sorted({repr(k): k for k, _ in requests}.items())
out = {}
for _, key in keys:
    mine = [(i, items) for i, (k, items) in enumerate(requests) if k == key and (k is key or k == key)]
    it = iter([x for _, items in mine for x in items])
    results = []
    while batch := list(itertools.islice(it, max_batch)):
        res = tuple(fn(key, batch))
        if len(res) != len(batch): raise ValueError("fn returned the wrong number of results")
        results.extend(res)
    it = iter(results)
    for i, items in mine: out[i] = [next(it) for _ in items]
return [out[i] for i in range(len(requests))]'''

_CONSTRAINED = '''from typing import Annotated, Optional
from pydantic import StringConstraints, ConfigDict, Field          # names the annotations use, in this function's scope
Text = Annotated[str, StringConstraints(min_length=1, max_length=max_chars)]     # pydantic refuses lone surrogates itself
class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: Annotated[list[Text], Field(min_length=1, max_length=max_texts)]
    adapter: Optional[Annotated[str, StringConstraints(max_length=64)]] = None
return Body'''

_BEFORE = '''from pydantic import model_validator
class Request(BaseModel):
    model_config = {"extra": "forbid"}
    texts: list[str]
    adapter: str | None = None

    @model_validator(mode="before")
    @classmethod
    def limits(cls, data):
        if isinstance(data, dict):
            texts, adapter = data.get("texts"), data.get("adapter")
            if isinstance(texts, list):
                if not 1 <= len(texts) <= max_texts: raise ValueError(f"{len(texts)} texts; allowed 1 to {max_texts}")
                for i, t in enumerate(texts):
                    if isinstance(t, str):
                        if not 0 < len(t) <= max_chars: raise ValueError(f"texts[{i}]: {len(t)} characters")
                        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in t): raise ValueError(f"texts[{i}]: a lone surrogate")
            if isinstance(adapter, str) and len(adapter) > 64: raise ValueError("adapter name longer than 64 characters")
        return data
return Request'''

_PSI_DIGITIZE = '''ref = np.array(reference, dtype=np.float64)       # copies: the caller's data stay as they are
cur = np.array(current, dtype=np.float64)
if bins < 1 or ref.size == 0 or cur.size == 0: raise ValueError("psi needs bins >= 1 and two non-empty samples")
ref.sort()
edges = np.quantile(ref, np.linspace(0, 1, bins + 1))[1:-1]             # repeated edges kept: their empty bins add 0
k = len(edges) + 1
r = np.zeros(k); np.add.at(r, np.digitize(ref, edges), 1.0); r /= ref.size
c = np.zeros(k); np.add.at(c, np.digitize(cur, edges), 1.0); c /= cur.size
r, c = r.clip(min=eps), c.clip(min=eps)
return float(((c - r) * (np.log(c) - np.log(r))).sum())'''

_PSI_BISECT = '''import bisect, math
ref, cur = [float(x) for x in reference], [float(x) for x in current]
if not ref or not cur: raise ValueError("empty sample")
if bins < 1: raise ValueError("bins < 1")
edges = sorted(set(np.quantile(ref, [j / bins for j in range(bins + 1)])[1:-1].tolist()))
def fractions(xs):
    counts = [0] * (len(edges) + 1)
    for x in xs: counts[bisect.bisect_right(edges, x)] += 1
    return [max(n / len(xs), eps) for n in counts]
return math.fsum((c - r) * math.log(c / r) for r, c in zip(fractions(ref), fractions(cur)))'''

def _app(handler, body, preamble=""):
    return {"p5_solution": f'''{preamble}app = FastAPI()

@app.get("/health")
async def health():
    return {{"status": "ok"}}

@app.post("/classify")
{handler}
{body}

return app'''}

RIGHT = {
    "p1": {"torch": {"p1_solution": [_TORCH_PARITY, _SHAPES]},
           "python_loops": {"p1_solution": [_LOOP_PARITY, _SHAPES]},
           "where_in_input_dtype": {"p1_solution": [_WHERE_PARITY, _SHAPES]},
           "test_model_first_comprehension": {"p1_solution": [_WHERE_PARITY,
               "def one(i, b, s):\n    ids, mask = random_batch(b, s, vocab_size, i)\n    t = test_fn(ids, mask)\n"
               "    return dict(batch=b, seq=s, **parity(ref_fn(ids, mask), t, mask))\n"
               "return [one(i, b, s) for i, (b, s) in enumerate(shapes, start=seed)]"]}},
    "p2": {"deque_per_key": {"p2_solution": _BATCHED_DEQUE},
           "islice_sorted_keys": {"p2_solution": _BATCHED_ISLICE}},
    "p3": {"constrained_types": {"p3_solution": _CONSTRAINED},
           "before_validator": {"p3_solution": _BEFORE}},
    "p4": {"digitize_add_at": {"p4_solution": _PSI_DIGITIZE},
           "bisect_fsum": {"p4_solution": _PSI_BISECT}},
    "p5": {"sync_endpoint": _app("def classify(req: Texts):", "    return {\"scores\": model(req.texts)}"),
           "run_in_executor": _app("async def classify(req: Texts):",
                                   "    loop = asyncio.get_running_loop()\n    return {\"scores\": await loop.run_in_executor(None, model, req.texts)}"),
           "starlette_threadpool": _app("async def classify(req: Texts):", "    return {\"scores\": await run_in_threadpool(model, req.texts)}",
                                        "from starlette.concurrency import run_in_threadpool\n"),
           "one_worker_in_turn": _app("async def classify(req: Texts):",
                                      "    return {\"scores\": await asyncio.wrap_future(pool.submit(model, req.texts))}",
                                      "import concurrent.futures\npool = concurrent.futures.ThreadPoolExecutor(max_workers=1)   # one model call at a time\n")},
}
