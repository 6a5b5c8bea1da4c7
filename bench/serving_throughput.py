"""Micro-batching against one request at a time: the same service, the same model, `max_batch` 32 against 1,
under 32 concurrent clients (closed loop) and under an open-loop schedule at several rates.

Each server is `ftcourse serve` in its own process on loopback; the load generator runs in this process.
The two servers are measured in alternating rounds (ratios of medians), so machine noise hits both.
Before the servers start, the predictor's own time per text (one per call against 32 per call, no HTTP) is measured:
the most that batching can give on this machine. Texts are the bundled WordNet definitions (test split), one per request. Open-loop latency counts from the
time a request was due, so a server that falls behind shows its queue instead of slowing the client.

    .venv/bin/python bench/serving_throughput.py [--rounds 3] [--requests 320] [--backend torch|onnx|int8] [--threads 1]
"""
import argparse, json, os, statistics, tempfile, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
from ftcourse.core import load_bundled
from ftcourse.serving import ServeConfig, ServerProcess, closed_loop, open_loop, export_onnx, quantize_int8, load_predictor

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3); ap.add_argument("--requests", type=int, default=320)
    ap.add_argument("--concurrency", type=int, default=32); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--backend", default="torch", choices=["torch", "onnx", "int8"])
    ap.add_argument("--rates", default="25,50,100", help="open-loop rates (requests/s), comma-separated")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds of open-loop sending per rate")
    a = ap.parse_args()
    texts = load_bundled("wordnet_topics")["test"]["text"]
    body = lambda i: {"texts": [texts[i % len(texts)]]}
    base = dict(labels="wordnet_topics", threads=a.threads, rate_limit=1e9, rate_burst=10 ** 9)
    tmp = tempfile.mkdtemp()
    if a.backend != "torch":   # export the served classifier once; both servers load the same file
        model = load_predictor(ServeConfig(**base)).model
        path = export_onnx(model, f"{tmp}/classifier.onnx", dynamo=False)
        base["onnx"] = str(quantize_int8(path, f"{tmp}/classifier_int8.onnx") if a.backend == "int8" else path)
    # The ceiling without HTTP: the predictor's time per text, one text per call against 32 texts per call (in this process).
    pred = load_predictor(ServeConfig(**base))
    for _ in range(3): pred(None, texts[:32])
    t0 = time.perf_counter(); [pred(None, [texts[i]]) for i in range(64)]; alone = (time.perf_counter() - t0) / 64
    t0 = time.perf_counter(); [pred(None, texts[i:i + 32]) for i in range(0, 320, 32)]; batched_text = (time.perf_counter() - t0) / 320
    del pred
    configs = {"batched": ServeConfig(**base, max_batch=32, max_wait_ms=5), "one at a time": ServeConfig(**base, max_batch=1, max_wait_ms=0)}
    closed = {k: [] for k in configs}
    with ServerProcess(configs["batched"]) as batched, ServerProcess(configs["one at a time"]) as single:
        servers = {"batched": batched, "one at a time": single}
        for srv in servers.values(): closed_loop(srv.url + "/v1/classify", a.concurrency, 2 * a.concurrency, body)   # warm-up
        for r in range(a.rounds):
            for name, srv in servers.items():
                closed[name].append(closed_loop(srv.url + "/v1/classify", a.concurrency, a.requests, body))
        rates = [float(x) for x in a.rates.split(",")]
        opened = {name: [open_loop(srv.url + "/v1/classify", rate, a.duration, body) for rate in rates] for name, srv in servers.items()}
    print(f"backend {a.backend}, {a.threads} thread(s), {a.concurrency} concurrent clients, {a.requests} requests x {a.rounds} rounds")
    print(f"{'server':15s} {'req/s (median)':>15s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
    med = {}
    for name, runs in closed.items():
        med[name] = statistics.median(r["throughput"] for r in runs)
        pick = lambda k: statistics.median(r[k] for r in runs)
        print(f"{name:15s} {med[name]:15.1f} {pick('p50'):8.1f} {pick('p95'):8.1f} {pick('p99'):8.1f}")
    ratio = med["batched"] / med["one at a time"]
    print(f"throughput ratio, batched / one at a time: {ratio:.2f}x  (per round: "
          + ", ".join(f"{b['throughput'] / s['throughput']:.2f}" for b, s in zip(closed['batched'], closed['one at a time'])) + ")")
    print(f"ceiling without HTTP (the predictor in-process): {1e3 * alone:.2f} ms per text alone, {1e3 * batched_text:.2f} ms per text "
          f"in calls of 32 -> at most {alone / batched_text:.2f}x from batching")
    print("\nopen loop (latency from the scheduled send time)")
    print(f"{'server':15s} {'rate':>6s} {'answered/s':>10s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>9s} {'errors':>6s}")
    for name, rows in opened.items():
        for r in rows: print(f"{name:15s} {r['rate']:6.0f} {r['throughput']:10.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:9.1f} {r['errors'] + sum(v for k, v in r['statuses'].items() if k >= 300):6d}")
    print(json.dumps({"ratio": round(ratio, 3), "ceiling": round(alone / batched_text, 3), "throughput": {k: round(v, 2) for k, v in med.items()}}))

if __name__ == "__main__":
    main()
