"""Pretrain the course's bundled causal LM (`tinylm`) at full budget and write it to ftcourse/assets/tinylm.

Runs the exported code of lesson 02 (`ftcourse.pretrain`: tokenizer, model, blocks, perplexity) and the course's
training loop (`ftcourse.train.train`, lesson 03) on the bundled WordNet corpus (`wordnet_lm`):

    .venv/bin/python scripts/build_tinylm.py                 # the shipped budget, about 20 min on 2 CPU cores
    .venv/bin/python scripts/build_tinylm.py --steps 200 --out /tmp/tinylm-short

Writes, in the Hugging Face layout that `AutoModelForCausalLM` / `AutoTokenizer.from_pretrained` load:
config.json, generation_config.json, model.safetensors, the tokenizer files (with the chat template), and
training_report.json (seed, budget, time, loss curve, and the validation and test perplexity of the trained
model and of a random model of the same shape). The output directory is replaced only once everything is
written. Reproducible from --seed on the same software stack and thread count.
"""
import argparse, json, os, platform, shutil, time
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

ROOT = Path(__file__).resolve().parents[1]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000, help="optimizer steps")
    ap.add_argument("--batch-size", type=int, default=16, help="blocks per step")
    ap.add_argument("--block-size", type=int, default=256, help="tokens per block (the model's full context)")
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    ap.add_argument("--warmup", type=int, default=60, help="linear warm-up steps")
    ap.add_argument("--vocab-size", type=int, default=4096, help="BPE vocabulary, special tokens included")
    ap.add_argument("--hidden-size", type=int, default=192); ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4); ap.add_argument("--intermediate-size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (results depend slightly on it)")
    ap.add_argument("--out", default=str(ROOT / "ftcourse" / "assets" / "tinylm"), help="output directory (replaced)")
    return ap.parse_args()


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    import tokenizers, transformers
    from transformers import LlamaForCausalLM
    from ftcourse.core import seed_everything, load_bundled
    from ftcourse.pretrain import train_tokenizer, tiny_llama_config, pack_lm_blocks, perplexity, save_checkpoint
    from ftcourse.train import TrainConfig, train as train_loop

    start = time.perf_counter()
    corpus = load_bundled("wordnet_lm")
    train, valid, test = (corpus[s]["text"] for s in ("train", "validation", "test"))
    seed_everything(a.seed)
    tok = train_tokenizer(train, vocab_size=a.vocab_size, max_length=a.block_size)
    cfg = tiny_llama_config(tok, hidden_size=a.hidden_size, num_layers=a.layers, num_heads=a.heads,
                            intermediate_size=a.intermediate_size, max_positions=a.block_size)
    model = LlamaForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    blocks = pack_lm_blocks(tok, train, a.block_size)
    print(f"{n_params:,} parameters; {blocks.numel():,} training tokens in {len(blocks)} blocks of {a.block_size}", flush=True)
    train_cfg = TrainConfig(max_steps=a.steps, batch_size=a.batch_size, lr=a.lr, warmup=a.warmup, schedule="cosine", min_lr_ratio=0.1,
                            weight_decay=0.1, betas=(0.9, 0.95), max_grad_norm=1.0, load_best=False, seed=a.seed)
    examples = [{"input_ids": b, "labels": b} for b in blocks]          # every position of every block is a target
    run = train_loop(model, examples, train_cfg)
    model.eval()
    losses = [h["loss"] for h in run["history"] if "loss" in h]
    hist = {"loss": losses, "seconds": run["seconds"], "tokens": run["steps"] * a.batch_size * a.block_size}

    seed_everything(a.seed + 1)
    random_twin = LlamaForCausalLM(cfg).eval()
    ppl = {"validation": perplexity(model, tok, valid, a.block_size), "test": perplexity(model, tok, test, a.block_size),
           "random_validation": perplexity(random_twin, tok, valid, a.block_size),
           "random_test": perplexity(random_twin, tok, test, a.block_size)}
    every = max(1, a.steps // 200)
    report = {
        "seed": a.seed, "steps": a.steps, "batch_size": a.batch_size, "block_size": a.block_size,
        "lr": a.lr, "warmup": a.warmup, "schedule": "linear warm-up, cosine decay to 0.1x; AdamW(0.9, 0.95), weight decay 0.1 on matrices, clip 1.0 (ftcourse.train.train)",
        "model": {"architecture": "LlamaForCausalLM", "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.num_hidden_layers,
                  "num_attention_heads": cfg.num_attention_heads, "intermediate_size": cfg.intermediate_size,
                  "vocab_size": cfg.vocab_size, "max_position_embeddings": cfg.max_position_embeddings, "tie_word_embeddings": True},
        "parameters": n_params,
        "corpus": "wordnet_lm (WordNet 3.0), train split; perplexity on the validation and test splits",
        "tokens": hist["tokens"], "train_tokens_available": blocks.numel(), "epochs": round(hist["tokens"] / blocks.numel(), 2),
        "seconds": round(hist["seconds"], 1), "threads": a.threads,
        "final_train_loss": round(sum(hist["loss"][-20:]) / len(hist["loss"][-20:]), 4),
        "perplexity": {k: round(v, 2) for k, v in ppl.items()},
        "random_over_trained_test": round(ppl["random_test"] / ppl["test"], 1),
        "software": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        "loss_curve": {"step": list(range(0, a.steps, every)), "loss": [round(x, 4) for x in hist["loss"][::every]]},
    }
    report["build_seconds"] = round(time.perf_counter() - start, 1)

    out = Path(a.out)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    save_checkpoint(model, tok, staging, report)
    for f in staging.iterdir(): f.chmod(0o644)        # readable by everyone once installed as package data
    if out.exists(): shutil.rmtree(out)
    staging.rename(out)
    print(json.dumps({k: v for k, v in report.items() if k != "loss_curve"}, indent=1))
    print(f"wrote {out}: " + ", ".join(f"{p.name} ({p.stat().st_size / 1e6:.2f} MB)" for p in sorted(out.iterdir())))


if __name__ == "__main__": main()
