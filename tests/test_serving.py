"""ftcourse.serving for real: ONNX export parity on unseen shapes, int8, merges (QLoRA included), and the HTTP service
on loopback (contract, limits, fuzz, metrics, micro-batching, inference off the event loop, rollout, drift, several
worker processes, the container's own command)."""
import asyncio, json, os, random, shlex, statistics, sys, threading, time
from pathlib import Path
import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime"); pytest.importorskip("fastapi")
import httpx
from ftcourse.serving import *
from ftcourse.core import model_path

ROOT = Path(__file__).resolve().parents[1]
LABELS = resolve_labels("wordnet_topics")
KEY = "test-key-0123456789abcdef"
TEXTS = ["a domesticated carnivorous mammal", "a building where books are kept", "the fruit of an apple tree",
         "a person who flies an aircraft", "any of various tools for cutting", "a large body of water"]


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    "Two PEFT LoRA adapters (with their own heads) on MiniLM, with random non-zero updates so that they disagree."
    from peft import LoraConfig, TaskType, get_peft_model
    from ftcourse.train import load_classifier
    root, out = tmp_path_factory.mktemp("adapters"), {}
    for seed, name in enumerate(["a", "b"]):
        torch.manual_seed(seed)
        m = get_peft_model(load_classifier("minilm", LABELS)[0], LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
        with torch.no_grad():
            for n, p in m.named_parameters():
                if "lora_B" in n: p.normal_(std=0.05)
        m.save_pretrained(root / name); out[name] = str(root / name)
    return out


@pytest.fixture(scope="module")
def predictor(adapters):
    return load_predictor(ServeConfig(labels=LABELS, adapters=adapters))


def config(adapters, **kw):
    return ServeConfig(**{"labels": LABELS, "adapters": adapters, "api_keys": [KEY], "rate_limit": 1e6, "rate_burst": 10 ** 6, "max_wait_ms": 2.0, **kw})


@pytest.fixture(scope="module")
def server(adapters, predictor):
    "The service on a loopback port (uvicorn in a thread), sharing the loaded predictor."
    with BackgroundServer(create_app(config(adapters), predictor)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}, timeout=60) as c:
        yield srv, c


def counter(client, name: str, **labels) -> float:
    "A counter's value in /metrics (0 if absent)."
    from prometheus_client.parser import text_string_to_metric_families
    total = 0.0
    for fam in text_string_to_metric_families(client.get("/metrics").text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()): total += s.value
    return total


# ---------------------------------------------------------------- export, merge, ONNX Runtime
def test_classifier_export_parity_on_unseen_shapes(tmp_path, adapters):
    "Dynamo export, traced on 2 x 16: parity on batch 1/3/17 x sequence 5/64/128, and the axes are symbolic in the graph."
    model = load_merged("minilm", adapters["a"], labels=LABELS)
    path = export_onnx(model, tmp_path / "c.onnx", dynamo=True)
    axes = onnx_axes(path)
    assert axes["input_ids"] == axes["attention_mask"] == ["batch", "sequence"] and axes["logits"] == ["batch", len(LABELS)], axes
    rows = check_parity(model, ort_session(path), shapes=((1, 5), (3, 64), (17, 128)))
    assert [(r["batch"], r["seq"]) for r in rows] == [(1, 5), (3, 64), (17, 128)]
    assert max(r["max_abs_diff"] for r in rows) <= 1e-4 and min(r["argmax_agreement"] for r in rows) == 1.0, rows
    int8 = quantize_int8(path, tmp_path / "c8.onnx", signed=True)
    assert int8.stat().st_size < 0.35 * path.stat().st_size                         # 8-bit weights: about a quarter of the bytes
    x = random_batch(4, 32, model.config.vocab_size, seed=5)
    got = ort_session(int8).run(["logits"], {k: v.numpy() for k, v in x.items()})[0]
    with torch.no_grad(): ref = model(**x).logits.numpy()
    assert got.shape == ref.shape and 0 < np.abs(got - ref).max() < 0.5             # quantized: close, not equal


def test_lm_export_legacy_exporter(tmp_path):
    "The tiny LM's forward through the TorchScript exporter: logits (batch, sequence, vocab), parity over real tokens."
    from transformers import AutoModelForCausalLM
    lm = AutoModelForCausalLM.from_pretrained(str(model_path("tinylm"))).eval()
    path = export_onnx(lm, tmp_path / "lm.onnx", dynamo=False)
    assert onnx_axes(path)["logits"] == ["batch", "sequence", lm.config.vocab_size]
    rows = check_parity(lm, ort_session(path), shapes=((1, 5), (3, 64), (5, 128)))
    assert max(r["max_abs_diff"] for r in rows) <= 1e-4 and min(r["argmax_agreement"] for r in rows) == 1.0, rows


def test_merges_equal_unmerged_and_quantized_models_are_refused():
    "From-scratch and PEFT merges leave plain nn.Linear layers with unchanged outputs; a 4-bit model is refused with the way out."
    from peft import LoraConfig, get_peft_model
    from ftcourse.lora import inject_lora, lora_layers
    from ftcourse.quant import quantize_linears
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    x = torch.randn(7, 16)
    scratch = inject_lora(torch.nn.Sequential(*[torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)]), targets=("0", "2"), r=2)
    for m in lora_layers(scratch).values(): torch.nn.init.normal_(m.lora_B)
    before = scratch(x).detach()
    merged = merge_adapter(scratch)
    assert not lora_layers(merged) and all(type(m) is torch.nn.Linear for m in (merged[0], merged[2]))
    assert torch.allclose(merged(x), before, atol=1e-5)
    peft = get_peft_model(net, LoraConfig(r=2, target_modules=["0", "2"]))
    for n, p in peft.named_parameters():
        if "lora_B" in n: torch.nn.init.normal_(p)
    before = peft(x).detach()
    assert torch.allclose(merge_adapter(peft)(x), before, atol=1e-5)
    q = quantize_linears(torch.nn.Sequential(torch.nn.Linear(64, 64)))
    with pytest.raises(ValueError, match="full precision"): merge_adapter(q)
    q.config = type("C", (), {"vocab_size": 10, "max_position_embeddings": 8})()
    with pytest.raises(ValueError, match="full precision"): export_onnx(q, "/tmp/never.onnx")


def test_qlora_adapter_merges_onto_full_precision_base(tmp_path):
    "An adapter trained on a 4-bit base, reloaded onto the float32 base and merged: equals the unmerged float32 model."
    from peft import PeftModel
    from ftcourse.quant import load_qlora
    from ftcourse.train import load_classifier
    torch.manual_seed(0)
    qmodel, tok = load_qlora("minilm", task="classification", labels=LABELS, r=4, device="cpu")
    with torch.no_grad():
        for n, p in qmodel.named_parameters():
            if "lora_B" in n: p.normal_(std=0.05)
    with pytest.raises(ValueError, match="full precision"): export_onnx(qmodel, tmp_path / "q.onnx")
    qmodel.save_pretrained(tmp_path / "qlora")
    merged = load_merged("minilm", tmp_path / "qlora", labels=LABELS)
    unmerged = PeftModel.from_pretrained(load_classifier("minilm", LABELS)[0], tmp_path / "qlora").eval()
    x = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad(): a, b = merged(**x).logits, unmerged(**x).logits
    assert (a - b).abs().max() < 1e-4 and not quantized_layers(merged)


def test_fake_quantize_and_calibration():
    "Round to the grid with a straight-through gradient that is zero where clipped; calibration records input ranges."
    torch.manual_seed(0)
    w = torch.randn(6, 10)
    q = fake_quantize(w, 4, dim=0)
    scale = w.abs().amax(1, keepdim=True) / 7
    assert torch.allclose(q / scale, (q / scale).round(), atol=1e-4) and ((q - w).abs() <= scale / 2 + 1e-6).all()
    x = torch.linspace(-3, 3, 13, requires_grad=True)
    fake_quantize(x, 8, scale=torch.tensor(1.0 / 127)).sum().backward()     # range [-1, 1]: outside it the gradient is 0
    assert torch.equal(x.grad, (x.detach().abs() <= 1).float())
    net = fake_quant_model(torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)), weight_bits=4)
    with pytest.raises(RuntimeError, match="calibrate"): net(torch.randn(3, 10))
    batches = [torch.randn(8, 10) for _ in range(3)]
    calibrate(net, batches)
    assert torch.isclose(net[0].act_amax, torch.cat(batches).abs().max())


# ---------------------------------------------------------------- drift, rollout, rate limits, batcher (no server)
def test_psi_and_drift_monitor_rates():
    "PSI against its formula; KS+PSI alarms rarely without drift and almost always under a known shift."
    rng = np.random.default_rng(0)
    ref = rng.normal(size=5000)
    assert psi(ref, ref) == pytest.approx(0, abs=1e-12)
    edges = np.quantile(ref, np.linspace(0, 1, 11))[1:-1]
    cur = rng.normal(0.5, 1, 1000)
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / ref.size
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / cur.size
    assert psi(ref, cur) == pytest.approx(np.sum((c - r) * np.log(c / r)), rel=1e-9)
    mon = DriftMonitor(ref, window=200)
    quiet = [mon.check(rng.normal(size=200)).alarm for _ in range(200)]
    shifted = [mon.check(rng.normal(0.5, 1, 200)).alarm for _ in range(50)]
    assert np.mean(quiet) <= 0.05 and np.mean(shifted) >= 0.9, (np.mean(quiet), np.mean(shifted))
    out = mon.update(rng.normal(size=450))
    assert len(out) == 2 and len(mon._buf) == 50


def test_rollout_routing():
    canary = Rollout("canary", "a", "b", fraction=0.2, seed=1)
    picks = [canary.route()[0] for _ in range(4000)]
    assert abs(picks.count("b") / 4000 - 0.2) < 4 * (0.2 * 0.8 / 4000) ** 0.5
    ab = Rollout("ab", "a", "b", fraction=0.5)
    users = [f"user{i}" for i in range(2000)]
    first = [ab.route(u)[0] for u in users]
    assert first == [ab.route(u)[0] for u in users]                      # sticky per user
    assert abs(first.count("b") / 2000 - 0.5) < 4 * (0.25 / 2000) ** 0.5
    assert Rollout("shadow", "a", "b").route("x") == ("a", "b")
    for bad in [dict(strategy="blue-green"), dict(fraction=1.5), dict(candidate="a")]:
        with pytest.raises(ValueError): Rollout(**({"strategy": "canary", "primary": "a", "candidate": "b"} | bad))
    with pytest.raises(ValueError, match="not among adapters"): ServeConfig(labels=LABELS, adapters={"a": "x"}, rollout={"strategy": "ab", "primary": "a", "candidate": "b"})


def test_rate_limiter_token_bucket():
    now = [0.0]
    lim = RateLimiter(rate=2, burst=3, max_keys=2, clock=lambda: now[0])
    assert [lim.acquire("k") for _ in range(3)] == [0, 0, 0] and lim.acquire("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert lim.acquire("k") == 0 and lim.acquire("other") == 0
    lim.acquire("third")
    assert len(lim._buckets) == 2                                          # bounded memory under many keys


def test_micro_batcher_groups_orders_and_isolates_failures():
    calls = []
    def fn(key, items):
        calls.append((key, len(items)))
        if key == "bad": raise RuntimeError("boom")
        return [f"{key}:{x}" for x in items]
    async def main():
        b = await MicroBatcher(fn, max_batch=4, max_wait_ms=50).start()
        jobs = [b.submit("a", [i]) for i in range(6)] + [b.submit("b", [10, 11])] + [b.submit("bad", [0])]
        out = await asyncio.gather(*jobs, return_exceptions=True)
        await b.stop()
        return out
    out = asyncio.run(main())
    assert out[:7] == [[f"a:{i}"] for i in range(6)] + [["b:10", "b:11"]]
    assert isinstance(out[7], RuntimeError)
    assert all(n <= 4 for _, n in calls) and max(n for k, n in calls if k == "a") == 4   # batched, never above max_batch
    with pytest.raises(ValueError): MicroBatcher(fn, max_batch=0)


def test_request_models_limits():
    Classify, Generate = request_models(max_texts=3, max_chars=10, max_new_tokens=5)
    assert Classify(texts=["ok"]).adapter is None
    for bad in [{"texts": []}, {"texts": ["x"] * 4}, {"texts": ["x" * 11]}, {"texts": [""]}, {"texts": ["\ud800"]},
                {"texts": "ok"}, {"texts": [1]}, {"text": "ok"}, {"texts": ["ok"], "extra": 1}]:
        with pytest.raises(ValueError): Classify(**bad)
    with pytest.raises(ValueError): Generate(prompt="hi", max_new_tokens=6)


def test_configuration_errors_are_clear(tmp_path, capsys):
    from ftcourse.cli import main
    for kw, message in [({"task": "translate"}, "task must be"), ({"max_batch": 0}, "max_batch must be a positive int"),
                        ({"api_keys": ["short"]}, "at least 16 characters"), ({"onnx": "m.onnx", "adapters": {"a": "x"}}, "one merged model"),
                        ({"rate_limit": "10"}, "non-negative number")]:
        with pytest.raises(ValueError, match=message): ServeConfig(**kw)
    (tmp_path / "c.json").write_text('{"modle": "minilm"}')
    assert main(["serve", "--config", str(tmp_path / "c.json")]) == 2 and "unknown ServeConfig fields ['modle']" in capsys.readouterr().err
    assert main(["serve", "--adapter", "no-equals-sign"]) == 2 and "NAME=DIR" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="adapter_config.json"): load_predictor(ServeConfig(labels=LABELS, adapters={"a": str(tmp_path)}))
    with pytest.raises(ValueError, match="at least 2 class names"): resolve_labels(None)
    assert resolve_labels("b, a,") == ["b", "a"]


# ---------------------------------------------------------------- the service over HTTP
def test_contract_and_adapter_selection(server, predictor):
    srv, c = server
    assert c.get("/health").json() == {"status": "ok"}
    assert c.get("/ready").json() == {"ready": True, "model": "minilm", "adapters": ["a", "b"]}
    for adapter in ["a", "b"]:
        r = c.post("/v1/classify", json={"texts": TEXTS, "adapter": adapter, "return_logits": True})
        assert r.status_code == 200 and r.json()["adapter"] == adapter
        got = np.array([p["logits"] for p in r.json()["predictions"]])
        ref = np.stack([l for l, _ in predictor(adapter, TEXTS)])
        assert np.abs(got - ref).max() < 1e-5 and [p["label"] for p in r.json()["predictions"]] == [LABELS[i] for i in ref.argmax(1)]
    default = c.post("/v1/classify", json={"texts": TEXTS[:1]}).json()
    assert default["adapter"] == "a" and "logits" not in default["predictions"][0]
    assert c.post("/v1/classify", json={"texts": ["x"], "adapter": "zz"}).status_code == 422
    assert c.post("/v1/classify", params={"text": "a bare query parameter"}).status_code == 422      # a body needs a model
    assert c.post("/v1/classify", json={"text": "not the field"}).status_code == 422


def test_batched_answers_equal_single_answers(server, predictor):
    "24 concurrent one-text requests share forward passes; each answer equals the text classified alone."
    srv, c = server
    texts = [f"{t} number {i}" for i, t in enumerate(TEXTS * 4)]
    alone = np.stack([predictor("b", [t])[0][0] for t in texts])
    n0, s0 = counter(c, "ftcourse_batch_size_count"), counter(c, "ftcourse_batch_size_sum")
    async def burst():
        async with httpx.AsyncClient(base_url=srv.url, headers={"X-API-Key": KEY}, timeout=60) as ac:
            rs = await asyncio.gather(*[ac.post("/v1/classify", json={"texts": [t], "adapter": "b", "return_logits": True}) for t in texts])
            return [r.json()["predictions"][0]["logits"] for r in rs]
    got = np.array(asyncio.run(burst()))
    assert np.abs(got - alone).max() <= 1e-5
    n, s = counter(c, "ftcourse_batch_size_count") - n0, counter(c, "ftcourse_batch_size_sum") - s0
    assert s == len(texts) and n < len(texts), (n, s)                       # fewer forward passes than requests


def test_security_limits(server, adapters, predictor):
    srv, c = server
    assert httpx.post(srv.url + "/v1/classify", json={"texts": ["x"]}).status_code == 401
    assert httpx.post(srv.url + "/v1/classify", json={"texts": ["x"]}, headers={"X-API-Key": KEY[:-1] + "?"}).status_code == 401
    assert httpx.post(srv.url + "/v1/classify", json={"texts": ["x"]}, headers={"X-API-Key": "ключ".encode()}).status_code == 401
    assert c.post("/v1/classify", content=b'{"texts": ["' + b"y" * 70_000 + b'"]}', headers={"content-type": "application/json"}).status_code == 413
    def chunks():                                                           # streamed, no Content-Length
        yield b'{"texts": ["'; yield b"y" * 70_000; yield b'"]}'
    assert c.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"}).status_code == 413
    assert c.post("/v1/classify", json={"texts": ["x" * 2001]}).status_code == 422
    assert c.post("/v1/classify", json={"texts": ["x"] * 65}).status_code == 422
    r = c.options("/v1/classify", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers and r.status_code >= 400         # CORS closed by default
    assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "https://evil.example"}).headers
    cfg = config(adapters, rate_limit=1, rate_burst=2, cors_origins=["https://app.example"])
    with BackgroundServer(create_app(cfg, predictor)) as s2, httpx.Client(base_url=s2.url, headers={"X-API-Key": KEY}) as c2:
        codes = [c2.post("/v1/classify", json={"texts": ["x"]}).status_code for _ in range(4)]
        assert codes[:2] == [200, 200] and codes[-1] == 429
        assert int(c2.post("/v1/classify", json={"texts": ["x"]}).headers["retry-after"]) >= 1
        ok = c2.options("/v1/classify", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
        assert ok.headers.get("access-control-allow-origin") == "https://app.example"


def test_internal_errors_hide_the_trace_and_4xx_stay_4xx(adapters, predictor):
    class Broken:
        adapters, labels, tokenizer = ["a"], LABELS, predictor.tokenizer
        def __call__(self, adapter, texts):
            if texts == ["crash"]: raise KeyError("secret internal detail /srv/app.py")
            return predictor(adapter, texts)
    with BackgroundServer(create_app(config({"a": adapters["a"]}), Broken())) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}) as c:
        r = c.post("/v1/classify", json={"texts": ["crash"]})
        assert r.status_code == 500 and set(r.json()) == {"detail", "request_id"}
        assert "secret" not in r.text and "Traceback" not in r.text and ".py" not in r.text
        assert c.post("/v1/classify", json={"texts": ["fine"]}).status_code == 200           # the batcher survived
        assert c.post("/v1/classify", json={"texts": ["x"], "adapter": "b"}).status_code == 422
        assert httpx.post(srv.url + "/v1/classify", json={"texts": ["x"]}).status_code == 401
        assert counter(c, "ftcourse_requests_total", endpoint="/v1/classify", status="500") == 1


def test_request_counter_counts_exactly(server):
    srv, c = server
    before = {s: counter(c, "ftcourse_requests_total", endpoint="/v1/classify", status=s) for s in ("200", "422")}
    n_ok, n_bad = 17, 5
    for i in range(n_ok): c.post("/v1/classify", json={"texts": [TEXTS[i % 6]]})
    for i in range(n_bad): c.post("/v1/classify", json={"texts": []})
    assert counter(c, "ftcourse_requests_total", endpoint="/v1/classify", status="200") - before["200"] == n_ok
    assert counter(c, "ftcourse_requests_total", endpoint="/v1/classify", status="422") - before["422"] == n_bad


def _health_during_heavy_load(url: str, path: str, heavy: dict, headers=None) -> list[float]:
    "Latencies of /health polled while 3 heavy classification requests are in flight."
    async def run():
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as ac:
            jobs = [asyncio.create_task(ac.post(path, json=heavy)) for _ in range(3)]
            await asyncio.sleep(0.1)
            lat = []
            while not all(j.done() for j in jobs):
                t = time.perf_counter(); await ac.get("/health"); lat.append(time.perf_counter() - t)
                await asyncio.sleep(0.02)
            await asyncio.gather(*jobs)
            return lat
    return asyncio.run(run())


def test_inference_off_the_event_loop(server, predictor):
    "While heavy requests run, /health answers at once; the same model called inside `async def` stalls it."
    from fastapi import FastAPI
    srv, c = server
    heavy = {"texts": [" ".join(["photosynthesis"] * 120)] * 8, "adapter": "a"}     # 8 texts truncated at 128 tokens
    t0 = time.perf_counter(); predictor("a", heavy["texts"]); one = time.perf_counter() - t0    # one heavy batch, measured directly
    good = _health_during_heavy_load(srv.url, "/v1/classify", heavy, {"X-API-Key": KEY})
    blocking = FastAPI()
    @blocking.get("/health")
    async def health(): return {"status": "ok"}
    @blocking.post("/classify")
    async def classify(body: dict): return {"logits": [l.tolist() for l, _ in predictor(body.get("adapter"), body["texts"])]}   # the bug: blocks the loop
    with BackgroundServer(blocking) as bsrv:
        stalled = _health_during_heavy_load(bsrv.url, "/classify", heavy)
    assert len(good) >= 3 and statistics.median(good) < one / 4, (statistics.median(good), one)
    assert max(stalled) > 0.8 * one, (max(stalled), one)


def test_fuzz_never_5xx_and_memory_stays_bounded(server):
    "500 hostile requests: no 5xx, the server still healthy, resident memory bounded (lesson 08 sends 1,000)."
    import psutil
    srv, c = server
    proc = psutil.Process()
    cases = fuzz_cases(500, seed=0, config=ServeConfig(labels=LABELS), api_key=KEY, adapters=["a", "b"])
    rss0 = proc.memory_info().rss
    async def send_all():
        sem, bad = asyncio.Semaphore(8), []
        async with httpx.AsyncClient(base_url=srv.url, timeout=60) as raw:
            async def one(case):
                async with sem:
                    r = await raw.request(case["method"], case["path"], headers=case["headers"], content=case["content"])
                    if r.status_code >= 500: bad.append((case["method"], case["path"], case["content"][:200], r.text[:300]))
                    return r.status_code
            return await asyncio.gather(*[one(c) for c in cases]), bad
    statuses, bad = asyncio.run(send_all())
    assert not bad, bad[:3]
    growth = (proc.memory_info().rss - rss0) / 2 ** 20
    assert c.get("/health").status_code == 200 and c.get("/ready").status_code == 200
    assert 200 in statuses and {401, 413, 422} <= set(statuses)             # the cases reached every guard
    assert growth < 150, f"resident memory grew by {growth:.0f} MiB over {len(cases)} fuzzed requests"


def test_rollout_in_the_service(adapters, predictor):
    "Canary shares requests, A/B sticks to a user, shadow answers with the primary and compares the candidate's predictions."
    canary = config(adapters, rollout={"strategy": "canary", "primary": "a", "candidate": "b", "fraction": 0.3})
    with BackgroundServer(create_app(canary, predictor)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}) as c:
        served = [c.post("/v1/classify", json={"texts": ["x"]}).json()["adapter"] for _ in range(120)]
        assert 0.3 - 4 * (0.21 / 120) ** 0.5 < served.count("b") / 120 < 0.3 + 4 * (0.21 / 120) ** 0.5
        assert {c.post("/v1/classify", json={"texts": ["x"], "adapter": "a"}).json()["adapter"] for _ in range(10)} == {"a"}
    ab = config(adapters, rollout={"strategy": "ab", "primary": "a", "candidate": "b", "fraction": 0.5})
    with BackgroundServer(create_app(ab, predictor)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}) as c:
        per_user = {u: {c.post("/v1/classify", json={"texts": ["x"]}, headers={"X-User-Id": u}).json()["adapter"] for _ in range(2)} for u in map(str, range(24))}
        assert all(len(v) == 1 for v in per_user.values()) and {"a", "b"} == set.union(*per_user.values())
    shadow = config(adapters, rollout={"strategy": "shadow", "primary": "a", "candidate": "b"})
    ref_a, ref_b = (np.stack([l for l, _ in predictor(k, TEXTS)]) for k in "ab")
    with BackgroundServer(create_app(shadow, predictor)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}) as c:
        r = c.post("/v1/classify", json={"texts": TEXTS, "return_logits": True}).json()
        assert r["adapter"] == "a"
        assert np.abs(np.array([p["logits"] for p in r["predictions"]]) - ref_a).max() < 1e-5
        for _ in range(100):
            if counter(c, "ftcourse_shadow_predictions_total") == len(TEXTS): break
            time.sleep(0.05)
        assert counter(c, "ftcourse_shadow_predictions_total", agree="true") == (ref_a.argmax(1) == ref_b.argmax(1)).sum()
        assert counter(c, "ftcourse_shadow_predictions_total") == len(TEXTS)


def test_drift_monitor_runs_in_the_lifespan(adapters, predictor):
    "Two windows of in-distribution texts stay quiet; a window of long texts trips the alarm, visible in /metrics."
    from ftcourse.core import load_bundled
    cfg = config(adapters, drift_reference="wordnet_topics", drift_window=100)
    test = load_bundled("wordnet_topics")["test"]["text"]
    def windows(c, n):
        for _ in range(100):
            if counter(c, "ftcourse_drift_windows_total") == n: return n
            time.sleep(0.05)
    with BackgroundServer(create_app(cfg, predictor)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}) as c:
        for i in range(0, 200, 50): c.post("/v1/classify", json={"texts": test[i:i + 50]})
        assert windows(c, 2) == 2 and counter(c, "ftcourse_drift_alarms_total") == 0
        long = [" ".join(test[(i + k) % 480] for k in range(5)) for i in range(100)]     # five definitions glued together
        for i in range(0, 100, 50): c.post("/v1/classify", json={"texts": long[i:i + 50]})
        assert windows(c, 3) == 3 and counter(c, "ftcourse_drift_alarms_total") == 1 and counter(c, "ftcourse_drift_psi") > 0.2
        assert 0 < counter(c, "ftcourse_confidence") <= 1 and c.get("/ready").status_code == 200


def test_generation_endpoint_equals_greedy_generate():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    cfg = ServeConfig(model="tinylm", task="generation", max_new_tokens=12, api_keys=[KEY])
    with BackgroundServer(create_app(cfg)) as srv, httpx.Client(base_url=srv.url, headers={"X-API-Key": KEY}, timeout=60) as c:
        r = c.post("/v1/generate", json={"prompt": "The cat", "max_new_tokens": 8})
        assert r.status_code == 200 and r.json()["new_tokens"] <= 8
        assert c.post("/v1/generate", json={"prompt": "x", "max_new_tokens": 13}).status_code == 422
        assert c.post("/v1/classify", json={"texts": ["x"]}).status_code == 404
    tok = AutoTokenizer.from_pretrained(str(model_path("tinylm")))
    lm = AutoModelForCausalLM.from_pretrained(str(model_path("tinylm"))).eval()
    ids = tok("The cat", return_tensors="pt")
    out = lm.generate(**ids, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id or tok.eos_token_id)
    assert r.json()["completion"] == tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


# ---------------------------------------------------------------- the container's command, several workers
def _dockerfile_cmd() -> list[str]:
    lines = (ROOT / "deploy" / "Dockerfile").read_text().splitlines()
    return json.loads(next(l for l in lines if l.startswith("CMD ")).removeprefix("CMD "))


def test_deploy_files_are_consistent():
    "The Dockerfile copies paths that exist; the Kubernetes probes hit routes the app has; limits are set."
    import yaml
    docker = (ROOT / "deploy" / "Dockerfile").read_text()
    for line in docker.splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]: assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
    cmd = _dockerfile_cmd()
    cfg = config_from_args(str(ROOT / cmd[cmd.index("--config") + 1]))
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "k8s.yaml").read_text()))
    dep = next(d for d in docs if d["kind"] == "Deployment")
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    routes = {r.path for r in create_app(cfg).routes}
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready" and container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"/ready", "/health", "/metrics"} <= routes
    assert container["ports"][0]["containerPort"] == int(cmd[cmd.index("--port") + 1])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"]) and {"cpu", "memory"} <= set(container["resources"]["requests"])
    env = {e["name"]: e for e in container["env"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"]["value"] in {m["mountPath"] for m in container["volumeMounts"]}
    assert "secretKeyRef" in env["FTCOURSE_API_KEYS"]["valueFrom"]
    svc = next(d for d in docs if d["kind"] == "Service")
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]


@pytest.fixture(scope="module")
def container_command(tmp_path_factory):
    "The Dockerfile's CMD run here (host and port changed to loopback), with its ENV's multiprocess metrics directory."
    import socket, subprocess
    cmd = _dockerfile_cmd()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    cmd[cmd.index("--host") + 1], cmd[cmd.index("--port") + 1] = "127.0.0.1", str(port)
    assert cmd[0] == "ftcourse"
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")            # a leftover of an earlier run: must be cleared
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "FTCOURSE_API_KEYS": KEY, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from ftcourse.cli import main; sys.exit(main())", *cmd[1:]], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            assert proc.poll() is None, "the container's command exited"
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200: break
            except httpx.HTTPError: pass
            time.sleep(0.1)
        yield url, metrics_dir, int(cmd[cmd.index("--workers") + 1])
    finally:
        proc.terminate()
        try: proc.wait(timeout=30)
        except subprocess.TimeoutExpired: proc.kill()


def test_container_command_serves_with_keys_from_the_environment(container_command):
    url, _, _ = container_command
    assert httpx.get(url + "/ready").json()["ready"] is True
    assert httpx.post(url + "/v1/classify", json={"texts": ["x"]}).status_code == 401
    r = httpx.post(url + "/v1/classify", json={"texts": TEXTS}, headers={"X-API-Key": KEY})
    assert r.status_code == 200 and len(r.json()["predictions"]) == len(TEXTS)


def test_multiprocess_metrics_count_exactly(container_command):
    "Several worker processes: N requests raise the summed counter by exactly N, whichever worker answered."
    from prometheus_client.mmap_dict import MmapedDict
    url, metrics_dir, workers = container_command
    assert workers >= 2
    def total():
        return counter(httpx.Client(base_url=url), "ftcourse_requests_total", endpoint="/v1/classify", status="200")
    before, n = total(), 40
    async def burst():
        async def one(i):
            async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as ac:   # a fresh connection each
                return (await ac.post("/v1/classify", json={"texts": [TEXTS[i % 6]]})).status_code
        return await asyncio.gather(*[one(i) for i in range(n)])
    assert asyncio.run(burst()) == [200] * n
    assert total() - before == n
    per_pid = {}
    for f in metrics_dir.glob("counter_*.db"):
        per_pid[f.stem] = sum(v for k, v, *_ in MmapedDict.read_all_values_from_file(str(f))
                              if json.loads(k)[1:3] == ["ftcourse_requests_total", {"endpoint": "/v1/classify", "method": "POST", "status": "200"}])
    assert "counter_999999" not in per_pid and len(per_pid) == workers
    assert sum(per_pid.values()) == total()
