"""All-reduce time against message size, between real processes, fitted to t = latency + size / bandwidth.

Starts `python -m ftcourse.distributed allreduce` under torchrun: float32 all-reduces from 1 KB to
`--max-mb` (every power of 4), 3 warm-up calls then the median of 30 (small) or 8 (large) timed calls,
all ranks entering together. Prints the table, the weighted least-squares fit (latency, bandwidth, worst
relative error of the fit) and the ring bus bandwidth (2 (N-1)/N × size / time). On CPU the backend is
gloo over loopback; on a GPU machine (`--device cuda --nproc N`) it is nccl between the GPUs.

    .venv/bin/python bench/allreduce.py [--nproc 2] [--max-mb 64] [--device auto]
"""
import argparse, json, os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from ftcourse.distributed import launch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nproc", type=int, default=2); ap.add_argument("--max-mb", type=float, default=64)
    ap.add_argument("--device", default="auto"); ap.add_argument("--json", help="also write the result here")
    a = ap.parse_args()
    r = launch("allreduce", nproc=a.nproc, options=["--max-mb", str(a.max_mb), "--device", a.device])["allreduce"]
    fit = r["fit"]
    print(f"{r['backend']}, {r['world_size']} ranks")
    print(f"{'size':>10s} {'median ms':>10s} {'fit ms':>10s} {'fit/measured':>12s} {'bus GB/s':>9s}")
    for n, t, bus in zip(r["sizes_bytes"], r["seconds"], r["bus_bandwidth_Bps"]):
        pred = fit["latency_s"] + n / fit["bandwidth_Bps"]
        print(f"{n / 1024:>8.0f}KB {t * 1e3:10.3f} {pred * 1e3:10.3f} {pred / t:12.2f} {bus / 1e9:9.3f}")
    print(f"fit: latency {fit['latency_s'] * 1e6:.1f} µs, bandwidth {fit['bandwidth_Bps'] / 1e9:.3f} GB/s, "
          f"worst relative error {fit['max_rel_error']:.0%}; latency-bound below {fit['latency_s'] * fit['bandwidth_Bps'] / 1024:.0f} KB")
    if a.json: open(a.json, "w").write(json.dumps(r, indent=1))

if __name__ == "__main__": main()
