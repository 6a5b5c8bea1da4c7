"""fp32 against bf16 and fp16 autocast, through `ftcourse.train`, on the same fine-tune of the bundled
tiny LM (instruction pairs, answer-only loss): time per step, peak memory, and the validation loss reached.

Each precision trains the same model from the same seed on the same batches; the runs alternate in order
over `--repeats` rounds and the time per step is the median over rounds (only ratios to fp32 are
meaningful on noisy machines). Peak memory is `torch.cuda.max_memory_allocated` on a GPU (not measured
on CPU). On CPU, bf16 and fp16 autocast are usually *slower* than fp32: the point of the bench is the GPU.

    .venv/bin/python bench/precision.py [--steps 150] [--batch 32] [--repeats 2] [--threads 2]
"""
import argparse, functools, json, os, statistics
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from ftcourse.core import asset_path, model_path, read_jsonl, seed_everything
from ftcourse.data import pad_collate, tokenize_prompt_completion
from ftcourse.train import TrainConfig, train

def encode(tok, rows, max_length=64):
    chat = lambda p: tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False)
    return [tokenize_prompt_completion(tok, chat(r["prompt"]), r["completion"], max_length) for r in rows]

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=150); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precisions", default="fp32,bf16,fp16")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    tok = AutoTokenizer.from_pretrained(model_path("tinylm"))
    data = asset_path("data", "wordnet_instruct")
    train_set = encode(tok, read_jsonl(data / "train.jsonl")[: a.steps * a.batch])
    val_set = encode(tok, read_jsonl(data / "validation.jsonl")[:512])
    collate = functools.partial(pad_collate, pad_token_id=tok.pad_token_id)
    precisions = a.precisions.split(",")
    sec, peak, val = {p: [] for p in precisions}, {}, {}
    for r in range(a.repeats):
        for p in (precisions if r % 2 == 0 else precisions[::-1]):
            seed_everything(0)
            model = AutoModelForCausalLM.from_pretrained(model_path("tinylm")).to(device)
            model.config.use_cache = False
            cfg = TrainConfig(max_steps=a.steps, batch_size=a.batch, lr=2e-3, warmup=0.1, precision=p, progress=False)
            if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
            res = train(model, train_set, cfg, val_data=val_set, collate_fn=collate)
            if cuda: torch.cuda.synchronize(); peak[p] = torch.cuda.max_memory_allocated()
            sec[p].append(res["seconds"] / res["steps"])
            val[p] = [h["val_loss"] for h in res["history"] if "val_loss" in h][-1]
            del model
    med = {p: statistics.median(v) for p, v in sec.items()}
    print(f"tiny LM, {a.steps} steps x batch {a.batch}, answer-only loss, on {device}{'' if cuda else f' ({a.threads} threads)'}, {a.repeats} alternating rounds")
    print(f"{'':6s} {'ms/step':>9s} {'vs fp32':>8s} {'peak MiB':>9s} {'val loss':>9s}")
    for p in precisions:
        print(f"{p:6s} {1e3 * med[p]:9.1f} {med[p] / med[precisions[0]]:8.2f} {peak[p] / 2**20 if p in peak else float('nan'):9.1f} {val[p]:9.4f}")
    print(json.dumps({"device": device, "median_s_per_step": med, "peak_bytes": peak, "val_loss": val}))

if __name__ == "__main__": main()
