"""From-scratch LoRA (`ftcourse.lora`) against PEFT's LoRA: time per training step and peak memory.

Both adapt the same MiniLM classifier (query/value, r=8, alpha=16, trainable head) and train on the
same batch through the course's loop (`ftcourse.train.train`, AdamW). Timing: one process, the two
contenders trained in alternating chunks of steps, the first step of each chunk (which creates the
optimizer states) left out, medians over many steps (these machines are noisy, so only the ratio is
meaningful). Memory: each contender in its own
process; the peak resident set size during training, above the resident size before training
(Linux VmHWM, reset through /proc/self/clear_refs).

    .venv/bin/python bench/lora_vs_peft.py [--steps 40] [--batch 32] [--seq 64] [--threads 2]
"""
import argparse, json, os, statistics, subprocess, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from common import reset_peak_rss, rss_kb, train_steps

LABELS = [f"c{i}" for i in range(8)]

def build(kind: str):
    from ftcourse.train import load_classifier
    from ftcourse.lora import inject_lora
    from peft import LoraConfig, get_peft_model, TaskType
    torch.manual_seed(0)
    model, tok = load_classifier("minilm", LABELS, "cpu")
    if kind == "scratch": inject_lora(model, ("query", "value"), r=8, alpha=16, trainable=("classifier", "pooler"))
    else: model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS, modules_to_save=["classifier", "pooler"]))
    return model, tok

def make_batch(tok, batch: int, seq: int):
    from ftcourse.core import load_bundled
    texts = load_bundled("wordnet_topics")["train"]["text"][:batch]
    enc = tok(texts, padding="max_length", truncation=True, max_length=seq, return_tensors="pt")
    return dict(enc) | {"labels": torch.arange(batch) % len(LABELS)}

def memory_child(kind: str, steps: int, batch: int, seq: int) -> dict:
    model, tok = build(kind)
    b = make_batch(tok, batch, seq)
    train_steps(model, [b], lr=1e-3)          # warm the allocator and the kernels once
    before = reset_peak_rss()
    train_steps(model, [b] * steps, lr=1e-3)  # a fresh optimizer: its states count, as in a real run
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

    models = {k: build(k)[0] for k in ("scratch", "peft")}
    b = make_batch(build("scratch")[1], a.batch, a.seq)
    for m in models.values(): train_steps(m, [b], lr=1e-3)                 # warm-up
    times, chunk = {k: [] for k in models}, 5
    for i in range(max(1, a.steps // (chunk - 1))):
        order = ("scratch", "peft") if i % 2 == 0 else ("peft", "scratch")   # interleave, alternate who goes first
        for k in order: times[k] += train_steps(models[k], [b] * chunk, lr=1e-3)["step_seconds"][1:]
    med = {k: statistics.median(v) for k, v in times.items()}
    mem = {}
    for k in models:
        out = subprocess.run([sys.executable, __file__, "--memory-child", k, "--steps", str(a.steps), "--batch", str(a.batch),
                              "--seq", str(a.seq), "--threads", str(a.threads)], capture_output=True, text=True, check=True)
        mem[k] = json.loads(out.stdout.strip().splitlines()[-1])["peak_above_start_mb"]
    print(f"MiniLM, LoRA r=8 on query/value + head, batch {a.batch} x {a.seq} tokens, {len(times['peft'])} timed steps each, {a.threads} threads")
    print(f"{'':10s} {'median s/step':>14s} {'peak MB above start':>20s}")
    for k in models: print(f"{k:10s} {med[k]:>14.4f} {mem[k]:>20.1f}")
    print(f"ratio scratch/peft: time per step {med['scratch']/med['peft']:.3f}, peak training memory {mem['scratch']/max(mem['peft'], 1e-9):.3f}")
    print(json.dumps({"median_s": med, "peak_mb": mem, "time_ratio": med["scratch"] / med["peft"], "memory_ratio": mem["scratch"] / max(mem["peft"], 1e-9)}))

if __name__ == "__main__": main()
