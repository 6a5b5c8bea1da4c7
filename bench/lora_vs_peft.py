"""From-scratch LoRA (`ftcourse.lora`) against PEFT's LoRA: time per training step and peak memory.

Both adapt the same MiniLM classifier (query/value, r=8, alpha=16, trainable head) and train on the
same batches. Timing: one process, the two contenders' steps interleaved, medians over many steps
(these machines are noisy, so only the ratio is meaningful). Memory: each contender in its own
process; the peak resident set size during training, above the resident size before training
(Linux VmHWM, reset through /proc/self/clear_refs).

    .venv/bin/python bench/lora_vs_peft.py [--steps 40] [--batch 32] [--seq 64] [--threads 2]
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

LABELS = [f"c{i}" for i in range(8)]

def build(kind: str):
    from ftcourse.lora import load_classifier, inject_lora
    from peft import LoraConfig, get_peft_model, TaskType
    torch.manual_seed(0)
    model, tok = load_classifier("minilm", LABELS)
    if kind == "scratch": inject_lora(model, ("query", "value"), r=8, alpha=16, trainable=("classifier", "pooler"))
    else: model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS, modules_to_save=["classifier", "pooler"]))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, tok, opt

def make_batch(tok, batch: int, seq: int):
    from ftcourse.core import load_bundled
    texts = load_bundled("wordnet_topics")["train"]["text"][:batch]
    enc = tok(texts, padding="max_length", truncation=True, max_length=seq, return_tensors="pt")
    return enc, torch.arange(batch) % len(LABELS)

def step(model, opt, enc, y):
    loss = model(**enc, labels=y).loss
    loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)

def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field): return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")

def memory_child(kind: str, steps: int, batch: int, seq: int) -> dict:
    model, tok, opt = build(kind)
    enc, y = make_batch(tok, batch, seq)
    step(model, opt, enc, y)                  # first step allocates optimizer states; include them below
    opt.state.clear()                         # start from a clean optimizer, as a real run does
    Path("/proc/self/clear_refs").write_text("5")   # reset the peak (VmHWM) to the current RSS
    before = rss_kb("VmRSS")
    for _ in range(steps): step(model, opt, enc, y)
    return {"peak_above_start_mb": (rss_kb("VmHWM") - before) / 1024}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-child", choices=["scratch", "peft"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.memory_child:
        print(json.dumps(memory_child(a.memory_child, max(3, a.steps // 4), a.batch, a.seq))); return

    models = {k: build(k) for k in ("scratch", "peft")}
    enc, y = make_batch(models["scratch"][1], a.batch, a.seq)
    for m, _, opt in models.values(): step(m, opt, enc, y)      # warm-up
    times = {k: [] for k in models}
    for i in range(a.steps):
        order = ("scratch", "peft") if i % 2 == 0 else ("peft", "scratch")   # interleave, alternate who goes first
        for k in order:
            m, _, opt = models[k]
            t = time.perf_counter(); step(m, opt, enc, y); times[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    mem = {}
    for k in models:
        out = subprocess.run([sys.executable, __file__, "--memory-child", k, "--steps", str(a.steps), "--batch", str(a.batch),
                              "--seq", str(a.seq), "--threads", str(a.threads)], capture_output=True, text=True, check=True)
        mem[k] = json.loads(out.stdout.strip().splitlines()[-1])["peak_above_start_mb"]
    print(f"MiniLM, LoRA r=8 on query/value + head, batch {a.batch} x {a.seq} tokens, {a.steps} interleaved steps, {a.threads} threads")
    print(f"{'':10s} {'median s/step':>14s} {'peak MB above start':>20s}")
    for k in models: print(f"{k:10s} {med[k]:>14.4f} {mem[k]:>20.1f}")
    print(f"ratio scratch/peft: time per step {med['scratch']/med['peft']:.3f}, peak training memory {mem['scratch']/max(mem['peft'], 1e-9):.3f}")
    print(json.dumps({"median_s": med, "peak_mb": mem, "time_ratio": med["scratch"] / med["peft"], "memory_ratio": mem["scratch"] / max(mem["peft"], 1e-9)}))

if __name__ == "__main__": main()
