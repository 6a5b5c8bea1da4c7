"""The hand-written loop (`ftcourse.train.train`) against the Hugging Face `Trainer` on the same fine-tune.

Both fully fine-tune the bundled MiniLM classifier on wordnet_topics with the same examples, batch size,
number of optimizer steps, learning rate, schedule, weight decay, clipping and collator (the Trainer's
arguments come from the same `TrainConfig` through `ftcourse.train.training_arguments`); no evaluation
and no checkpoints, so only the training path is timed. Each (contender, repetition) runs in its own
process with a fixed thread count: the time of the whole `train` call (set-up included, model loading
excluded) and the peak resident memory during it above the resident size before it (Linux VmHWM, reset
through /proc/self/clear_refs). Repetitions interleave the two contenders and alternate who goes first;
medians are reported, and ratios, because these machines are noisy.

    .venv/bin/python bench/loop_vs_trainer.py [--steps 30] [--batch 16] [--seq 32] [--reps 3] [--threads 2]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from common import reset_peak_rss, rss_kb

CONTENDERS = ("loop", "trainer")


def child(kind: str, steps: int, batch: int, seq: int) -> dict:
    import torch
    from transformers import DataCollatorWithPadding, Trainer
    from transformers.utils import logging as hf_logging
    from ftcourse.core import load_bundled, seed_everything
    from ftcourse.data import class_names, tokenize_classification
    from ftcourse.train import TrainConfig, train, training_arguments, load_classifier
    hf_logging.set_verbosity_error(); hf_logging.disable_progress_bar()
    topics = load_bundled("wordnet_topics")["train"].shuffle(seed=0).select(range(steps * batch))
    labels = class_names(topics)
    seed_everything(0)
    model, tok = load_classifier("minilm", labels, "cpu")
    data = tokenize_classification(topics, tok, labels, max_length=seq)
    collate = DataCollatorWithPadding(tok)
    cfg = TrainConfig(epochs=1, batch_size=batch, lr=5e-5, warmup=0.1, schedule="linear", load_best=False, progress=False, seed=0)
    before = reset_peak_rss()
    t = time.perf_counter()
    if kind == "loop":
        res = train(model, data, cfg, collate_fn=collate)
        done, mean_loss = res["steps"], statistics.mean(h["loss"] for h in res["history"])
    else:
        args = training_arguments(cfg, tempfile.mkdtemp(), eval_strategy="no", save_strategy="no", logging_steps=steps, disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
        out = trainer.train()
        done, mean_loss = out.global_step, out.training_loss
    seconds = time.perf_counter() - t
    return {"steps": done, "seconds": seconds, "steps_per_s": done / seconds, "peak_above_start_mb": (rss_kb("VmHWM") - before) / 1024,
            "mean_train_loss": mean_loss}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30); ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=32); ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        import torch
        torch.set_num_threads(a.threads)
        print(json.dumps(child(a.child, a.steps, a.batch, a.seq))); return

    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "MKL_NUM_THREADS": str(a.threads)}
    runs = {k: [] for k in CONTENDERS}
    for rep in range(a.reps):
        for kind in (CONTENDERS if rep % 2 == 0 else CONTENDERS[::-1]):    # interleave, alternate who goes first
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--steps", str(a.steps), "--batch", str(a.batch),
                                  "--seq", str(a.seq), "--threads", str(a.threads)], capture_output=True, text=True, env=env)
            if out.returncode != 0: raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if r["steps"] != a.steps: raise RuntimeError(f"{kind} took {r['steps']} steps, expected {a.steps}")
            runs[kind].append(r)
            print(f"rep {rep} {kind:8s} {r['steps_per_s']:.3f} steps/s  peak +{r['peak_above_start_mb']:.0f} MB  mean training loss {r['mean_train_loss']:.3f}", flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("steps_per_s", "peak_above_start_mb")} for k, v in runs.items()}
    print(f"\nMiniLM full fine-tune, batch {a.batch} x <= {a.seq} tokens, {a.steps} steps, {a.reps} interleaved repetitions, {a.threads} threads")
    print(f"{'':10s} {'median steps/s':>15s} {'median peak MB above start':>27s}")
    for k in CONTENDERS: print(f"{k:10s} {med[k]['steps_per_s']:>15.3f} {med[k]['peak_above_start_mb']:>27.0f}")
    speed = med["loop"]["steps_per_s"] / med["trainer"]["steps_per_s"]
    memory = med["loop"]["peak_above_start_mb"] / max(med["trainer"]["peak_above_start_mb"], 1e-9)
    print(f"ratio loop/Trainer: steps per second {speed:.3f}, peak training memory {memory:.3f}")
    print(json.dumps({"median": med, "speed_ratio": speed, "memory_ratio": memory}))


if __name__ == "__main__": main()
