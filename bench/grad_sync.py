"""Gradient synchronisation per training step of the tiny LM, and what two ranks buy on this machine.

1. `gradsync`: one step (forward, backward, sync) with the gradients averaged per parameter (one
   all-reduce each), flattened into one buffer, in 1 MB buckets, and by DDP (buckets overlapped with
   backward), against no synchronisation; the modes alternate within each round, medians over rounds.
2. `speedup`: one global batch per step, as one process with one thread, one process with every core,
   and DDP with one thread per rank; rounds interleaved, medians.

Ratios are what to read: the machines are shared and noisy.

    .venv/bin/python bench/grad_sync.py [--nproc 2] [--repeats 10] [--device auto]
"""
import argparse, json, os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from ftcourse.distributed import launch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nproc", type=int, default=2); ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--device", default="auto"); ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    r = launch(["gradsync", "speedup"], nproc=a.nproc, options=["--repeats", str(a.repeats), "--device", a.device])
    g, s = r["gradsync"], r["speedup"]
    base = g["step_seconds"]["none"]
    print(f"gradient sync, {g['grad_mb']:.1f} MB of gradients, {g['world_size']} ranks (median ms per step):")
    for mode, t in g["step_seconds"].items():
        sync, calls = g["sync_seconds"].get(mode), g["all_reduce_calls"].get(mode)
        extra = f"   sync alone {sync * 1e3:7.2f} ms, {calls} all-reduce calls" if sync is not None else ""
        print(f"  {mode:14s} {t * 1e3:8.2f}  {t / base:5.2f}× no sync{extra}")
    t = s["step_seconds"]
    one = t["1 process, 1 thread"]
    print(f"one global batch of {s['global_batch']} blocks, {s['cpus']} CPU cores (median ms per step):")
    for k, v in t.items(): print(f"  {k:24s} {v * 1e3:8.2f}  speed-up over 1 thread {one / v:5.2f}×")
    if a.json: open(a.json, "w").write(json.dumps(r, indent=1))

if __name__ == "__main__": main()
