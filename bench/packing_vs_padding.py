"""Sequence packing (`ftcourse.data.pack_collate`) against padding (`pad_collate`): real tokens per second
in training steps of the bundled tiny LM on wordnet_instruct.

Both contenders train their own copy of the same model (AdamW, same initial weights) through the course's
loop (`ftcourse.train.train`) on the same examples: each step takes the next `--batch` examples of a seeded shuffle; padding
makes one (batch, longest) tensor, packing puts the same examples into rows of `--max-length`
tokens with per-example position_ids (no token attends across an example boundary). Only real
(non-pad) tokens are counted, so the figure is useful work per second. One process, the two
contenders trained in alternating chunks of steps (the first step of each chunk, which creates the
optimizer states, is not timed), medians over many steps, a fixed thread count (these machines are
noisy: only the ratio is meaningful).

    .venv/bin/python bench/packing_vs_padding.py [--steps 40] [--batch 32] [--max-length 256] [--threads 2]
"""
import argparse, json, os, statistics
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch
from common import train_steps

CHUNK = 4   # steps per turn of a contender; the first of each chunk is not timed


def build(path: str):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(path)
    model.config.use_cache = False          # packed boundaries are read from position_ids only without a cache
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=256); ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging
    import datasets
    from ftcourse.core import model_path
    from ftcourse.data import load_data, tokenize_dataset, pad_collate, pack_collate
    hf_logging.disable_progress_bar(); datasets.disable_progress_bars()
    path = model_path("tinylm")
    tok = AutoTokenizer.from_pretrained(path)
    data = tokenize_dataset(load_data("wordnet_instruct", split="train").shuffle(seed=0), tok, max_length=a.max_length)
    n_chunks = max(1, -(-a.steps // (CHUNK - 1)))
    need = n_chunks * CHUNK * a.batch
    if need > len(data): raise SystemExit(f"--steps x --batch needs {need} examples, wordnet_instruct has {len(data)}")
    feats = [data[i] for i in range(need)]
    torch.manual_seed(0)
    models = {"padding": build(path), "packing": build(path)}
    collate = {"padding": lambda f: pad_collate(f, tok.pad_token_id),
               "packing": lambda f: pack_collate(f, max_length=a.max_length, pad_token_id=tok.pad_token_id)}
    times, shapes = {k: [] for k in models}, {k: [] for k in models}
    real, first_loss = [], {}
    for c in range(n_chunks):
        steps = [feats[(c * CHUNK + j) * a.batch:(c * CHUNK + j + 1) * a.batch] for j in range(CHUNK)]
        batches = {k: [collate[k](s) for s in steps] for k in models}
        for k in (("padding", "packing") if c % 2 == 0 else ("packing", "padding")):
            res = train_steps(models[k], batches[k], lr=1e-4)
            first_loss.setdefault(k, res["history"][0]["loss"])
            times[k] += res["step_seconds"][1:]; shapes[k] += [b["input_ids"].numel() for b in batches[k][1:]]
        real += [sum(len(f["input_ids"]) for f in s) for s in steps[1:]]
    # same weights, same examples: the first step's loss must agree, or packing trains on something else
    if abs(first_loss["packing"] - first_loss["padding"]) > 1e-4 * abs(first_loss["padding"]):
        raise SystemExit(f"first-step losses differ: padding {first_loss['padding']:.6f}, packing {first_loss['packing']:.6f}")
    tps = {k: [r / t for r, t in zip(real, times[k])] for k in models}
    med = {k: statistics.median(v) for k, v in tps.items()}
    paired = statistics.median(p / q for p, q in zip(tps["packing"], tps["padding"]))
    positions = {k: sum(v) for k, v in shapes.items()}
    print(f"tiny LM ({sum(p.numel() for p in models['padding'].parameters())/1e6:.2f}M params) on wordnet_instruct, "
          f"{a.batch} examples per step, packing into rows of {a.max_length}, {len(real)} timed steps each, {a.threads} threads")
    print(f"{'':8s} {'median real tok/s':>18s} {'median s/step':>14s} {'token positions':>16s} {'pad share':>10s}")
    for k in models:
        print(f"{k:8s} {med[k]:>18,.0f} {statistics.median(times[k]):>14.4f} {positions[k]:>16,} {1 - sum(real)/positions[k]:>10.1%}")
    print(f"first-step loss: padding {first_loss['padding']:.6f}, packing {first_loss['packing']:.6f} (same examples, same weights)")
    print(f"ratio packing/padding: real tokens per second {med['packing']/med['padding']:.3f} (median of paired per-step ratios {paired:.3f})")
    print(json.dumps({"median_real_tokens_per_s": med, "ratio": med["packing"] / med["padding"], "paired_ratio": paired,
                      "pad_share": {k: 1 - sum(real) / positions[k] for k in models}, "threads": a.threads, "steps": a.steps, "batch": a.batch}))


if __name__ == "__main__": main()
