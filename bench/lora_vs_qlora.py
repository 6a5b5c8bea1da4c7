"""LoRA on a full-precision base against QLoRA (NF4 base, bitsandbytes) on the bundled tiny LM:
time per training step and peak training memory, side by side, with the memory calculator's estimate.

Same adapter (r=8 on every attention and MLP projection), same batch of random tokens, trained through
the course's loop (`ftcourse.train.train`). Timing: one process, the contenders trained in alternating
chunks of steps (the first step of each chunk, which creates the optimizer states, not timed), medians.
Memory: `ftcourse.memory.measure_training_memory`, i.e.
`torch.cuda.max_memory_allocated` on a GPU and the op-by-op tensor tracker on CPU, each contender
measured on its own. On CUDA the compute dtype of QLoRA is bf16 (float32 on CPU). `--model` takes any
bundled name or local model directory; `--random-llama 2048,22,5632` builds a random Llama of that
width, depth and MLP size instead (for a larger-scale check of the calculator on a GPU).

    .venv/bin/python bench/lora_vs_qlora.py [--steps 30] [--batch 16] [--seq 256] [--threads 2]
"""
import argparse, json, logging, os, statistics, tempfile
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
import torch
from common import train_steps
from ftcourse.quant import load_qlora
from ftcourse.memory import measure_training_memory, training_memory

def random_llama(spec: str, out: str) -> str:
    "Save a randomly initialised Llama (hidden,layers,intermediate) with the tiny LM's tokenizer; return its directory."
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from ftcourse.core import model_path
    h, n, i = (int(x) for x in spec.split(","))
    cfg = LlamaConfig(hidden_size=h, num_hidden_layers=n, intermediate_size=i, num_attention_heads=h // 64, num_key_value_heads=h // 64,
                      vocab_size=32000, architectures=["LlamaForCausalLM"])
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(out)
    AutoTokenizer.from_pretrained(model_path("tinylm")).save_pretrained(out)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30); ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="tinylm"); ap.add_argument("--random-llama", default=None)
    ap.add_argument("--full", action="store_true", help="also measure full fine-tuning's peak memory against the calculator")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    name = random_llama(a.random_llama, tempfile.mkdtemp()) if a.random_llama else a.model
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 1000, (a.batch, a.seq), generator=g).to(device)
    batch = {"input_ids": ids, "labels": ids}
    kinds = {"lora": False, "qlora": True}
    memory, estimate = {}, {}
    if a.full:                                             # full fine-tuning too, for the calculator check only
        from ftcourse.train import load_causal_lm
        model = load_causal_lm(name, device)[0]
        memory["full"] = measure_training_memory(model, batch, steps=2)
        estimate["full"] = training_memory(model.config, "full", a.batch, a.seq).peak
        del model
        if cuda: torch.cuda.empty_cache()
    for k, quantize in kinds.items():                      # memory: each contender alone, fresh allocator peak
        model, _ = load_qlora(name, quantize=quantize, device=device)
        memory[k] = measure_training_memory(model, batch, steps=2)
        estimate[k] = training_memory(model.base_model.model.config, k, a.batch, a.seq).peak
        del model
        if cuda: torch.cuda.empty_cache()
    models = {k: load_qlora(name, quantize=q, device=device)[0] for k, q in kinds.items()}
    for k in kinds: train_steps(models[k], [batch] * 2)    # warm-up
    times, chunk = {k: [] for k in kinds}, 5
    for i in range(max(1, -(-a.steps // (chunk - 1)))):
        for k in (("lora", "qlora") if i % 2 == 0 else ("qlora", "lora")):
            times[k] += train_steps(models[k], [batch] * chunk)["step_seconds"][1:]   # loss.item() in the loop synchronizes CUDA
    med = {k: statistics.median(v) for k, v in times.items()}
    n_params = sum(p.numel() for p in models["lora"].parameters())
    print(f"{name if not a.random_llama else 'random Llama ' + a.random_llama} ({n_params / 1e6:.1f}M parameters), LoRA r=8 on all projections, "
          f"batch {a.batch} x {a.seq}, {len(times['lora'])} timed steps each on {device}{'' if cuda else f' ({a.threads} threads)'}")
    print(f"{'':8s} {'median ms/step':>15s} {'peak MiB':>10s} {'estimate MiB':>13s} {'estimate/peak':>14s}")
    for k in memory: print(f"{k:8s} {1e3 * med[k] if k in med else float('nan'):15.1f} {memory[k] / 2**20:10.1f} {estimate[k] / 2**20:13.1f} {estimate[k] / memory[k]:14.2f}")
    print(f"ratio qlora/lora: time per step {med['qlora'] / med['lora']:.2f}, peak memory {memory['qlora'] / memory['lora']:.2f}")
    print(json.dumps({"device": device, "median_s": med, "peak_bytes": memory, "estimate_bytes": estimate,
                      "time_ratio": med["qlora"] / med["lora"], "memory_ratio": memory["qlora"] / memory["lora"]}))

if __name__ == "__main__": main()
