"""Pretrain the course's bundled causal LM (`tinylm`) at full budget and write it to ftcourse/assets/tinylm.

Uses the exported code of lesson 02 (ftcourse.pretrain) on the bundled WordNet corpus:

    .venv/bin/python scripts/build_tinylm.py [--steps 1500] [--out ftcourse/assets/tinylm]

Writes model.safetensors + config.json + generation_config.json, the tokenizer files, and
training_report.json (seed, steps, tokens, time, losses, validation and test perplexity of the trained
model and of a random model of the same shape). Reproducible from --seed on the same software stack.
"""
import argparse, json, os, platform, sys
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=1500); ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3); ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--vocab-size", type=int, default=4096); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "ftcourse" / "assets" / "tinylm"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from transformers import LlamaForCausalLM
    from ftcourse.core import seed_everything, load_bundled
    from ftcourse.pretrain import train_tokenizer, tiny_llama_config, pack_lm_blocks, pretrain, perplexity

    corpus = load_bundled("wordnet_lm")
    train, valid, test = (corpus[s]["text"] for s in ("train", "validation", "test"))
    seed_everything(a.seed)
    tok = train_tokenizer(train, vocab_size=a.vocab_size)
    cfg = tiny_llama_config(tok)
    model = LlamaForCausalLM(cfg)
    blocks = pack_lm_blocks(tok, train)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; {blocks.numel():,} training tokens", flush=True)
    hist = pretrain(model, blocks, steps=a.steps, batch_size=a.batch_size, lr=a.lr, warmup=a.warmup, seed=a.seed)
    seed_everything(a.seed + 1)
    random_twin = LlamaForCausalLM(cfg)
    ppl = {"validation": perplexity(model, tok, valid), "test": perplexity(model, tok, test),
           "random_validation": perplexity(random_twin, tok, valid), "random_test": perplexity(random_twin, tok, test)}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out); tok.save_pretrained(out)
    every = max(1, a.steps // 200)
    report = {"seed": a.seed, "steps": a.steps, "batch_size": a.batch_size, "block_size": blocks.shape[1], "lr": a.lr, "warmup": a.warmup,
              "tokens": hist["tokens"], "train_tokens_available": blocks.numel(), "epochs": round(hist["tokens"] / blocks.numel(), 2),
              "parameters": sum(p.numel() for p in model.parameters()), "seconds": round(hist["seconds"], 1),
              "final_train_loss": round(sum(hist["loss"][-20:]) / 20, 4),
              "perplexity": {k: round(v, 2) for k, v in ppl.items()},
              "random_over_trained_test": round(ppl["random_test"] / ppl["test"], 1),
              "software": {"torch": torch.__version__, "python": platform.python_version()},
              "loss_curve": {"step": list(range(0, a.steps, every)), "loss": [round(x, 4) for x in hist["loss"][::every]]}}
    (out / "training_report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "loss_curve"}, indent=1))


if __name__ == "__main__": main()
