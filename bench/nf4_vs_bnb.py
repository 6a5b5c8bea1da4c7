"""From-scratch NF4 (`ftcourse.quant`) against bitsandbytes: quantize and dequantize time, and error.

Both quantize the same weights (a 4096 x 4096 matrix drawn like a 7B model's projection, and the real
linear weights of the bundled models) to NF4 with blocks of 64 and double quantization. Timing: one
process, the contenders interleaved, medians over many repetitions; only the ratio is meaningful on
these noisy machines. Error: mean |dequantized - original| and the share of 4-bit codes that agree.

    .venv/bin/python bench/nf4_vs_bnb.py [--reps 15] [--threads 2] [--device cpu|cuda]
"""
import argparse, json, logging, os, statistics, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
import torch
import bitsandbytes.functional as bnbF
from ftcourse.quant import nf4_quantize, unpack_4bit

def sync(device):
    if device.type == "cuda": torch.cuda.synchronize()

def timed(fn, device):
    sync(device); t = time.perf_counter(); out = fn(); sync(device)
    return time.perf_counter() - t, out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=15); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    w = (torch.randn(4096, 4096, generator=torch.Generator().manual_seed(0)) * 0.02).to(device)
    contenders = {
        "ftcourse": (lambda: nf4_quantize(w), lambda t: t.dequantize()),
        "bitsandbytes": (lambda: bnbF.quantize_4bit(w, blocksize=64, quant_type="nf4", compress_statistics=True),
                         lambda qs: bnbF.dequantize_4bit(*qs)),
    }
    for q, d in contenders.values(): d(q())                                  # warm-up
    times = {k: {"quantize": [], "dequantize": []} for k in contenders}
    outs = {}
    for i in range(a.reps):
        for k in (list(contenders) if i % 2 == 0 else list(contenders)[::-1]):   # interleaved, alternating order
            q, d = contenders[k]
            tq, qs = timed(q, device); td, deq = timed(lambda: d(qs), device)
            times[k]["quantize"].append(tq); times[k]["dequantize"].append(td); outs[k] = (qs, deq)
    med = {k: {op: statistics.median(v) for op, v in ops.items()} for k, ops in times.items()}
    ours, (q_b, _) = outs["ftcourse"][0], outs["bitsandbytes"][0]
    codes_agree = (unpack_4bit(ours.packed) == unpack_4bit(q_b.reshape(-1))).float().mean().item()
    err = {k: (outs[k][1].float() - w).abs().mean().item() for k in contenders}
    print(f"NF4, blocks of 64, double quantization; 4096 x 4096 weight on {device} ({a.threads} threads), {a.reps} interleaved repetitions")
    print(f"{'':14s} {'quantize ms':>12s} {'dequantize ms':>14s} {'mean |error|':>13s}")
    for k in contenders: print(f"{k:14s} {1e3 * med[k]['quantize']:12.2f} {1e3 * med[k]['dequantize']:14.2f} {err[k]:13.3e}")
    ratio = {op: med["ftcourse"][op] / med["bitsandbytes"][op] for op in ("quantize", "dequantize")}
    print(f"ratio ftcourse/bitsandbytes: quantize {ratio['quantize']:.2f}, dequantize {ratio['dequantize']:.2f}; "
          f"4-bit codes identical {codes_agree:.6%}; error ratio {err['ftcourse'] / err['bitsandbytes']:.4f}")
    print(json.dumps({"device": str(device), "median_s": med, "ratio": ratio, "codes_identical": codes_agree, "mean_abs_error": err}))

if __name__ == "__main__": main()
