"""Eager PyTorch against ONNX Runtime fp32 and int8 on MiniLM fine-tuned with LoRA: latency at batch 1, sequence 64,
one thread (p50/p95, ratios to eager measured in the same run), file size, and test accuracy with a paired 95% interval.

The classifier: a LoRA adapter (r=8 on query/value, head trained) fine-tuned on the bundled WordNet topics through
`ftcourse.train.train` (or `--adapter DIR`, a PEFT adapter), merged, exported with the dynamo exporter ("TorchScript": the same model through the TorchScript exporter, opset 17); "fused" is the
TorchScript export of the eager-attention model after ONNX Runtime's transformer fusions. Int8 is ONNX Runtime's
dynamic quantization: signed or unsigned weights, per tensor or per output channel. Timings: contenders interleaved
round-robin, medians; accuracy: paired bootstrap of (variant correct - eager correct) over the 480 test texts.

    .venv/bin/python bench/serving_latency.py [--repeats 200] [--steps 200] [--threads 1] [--adapter DIR]
"""
import argparse, json, os, tempfile
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
import torch
from ftcourse.core import load_bundled, bootstrap_ci, seed_everything
from ftcourse.data import class_names, tokenize_classification
from ftcourse.train import train, TrainConfig, load_classifier, classifier_logits
from ftcourse.serving import (export_onnx, optimize_transformer, quantize_int8, ort_session, onnx_logits, interleaved_latency,
                              random_batch, load_merged)

def fine_tune(labels, steps: int, out: str) -> str:
    "A LoRA adapter trained on the bundled topics through the course's loop, saved in PEFT's format."
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import DataCollatorWithPadding
    seed_everything(0)
    model, tok = load_classifier("minilm", labels, device="cpu")
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
    data = tokenize_classification(load_bundled("wordnet_topics")["train"], tok, labels, max_length=64)
    train(model, data, TrainConfig(max_steps=steps, batch_size=32, lr=2e-3, warmup=0.1, progress=False), collate_fn=DataCollatorWithPadding(tok))
    model.save_pretrained(out)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=200); ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1); ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--adapter", default=None, help="a PEFT adapter directory (default: fine-tune one first)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tmp = tempfile.mkdtemp()
    test = load_bundled("wordnet_topics")["test"]
    labels = class_names(load_bundled("wordnet_topics"))
    y = np.array([labels.index(l) for l in test["label"]])
    adapter = a.adapter or fine_tune(labels, a.steps, f"{tmp}/adapter")
    model = load_merged("minilm", adapter, labels=labels)
    eager_attn = load_merged("minilm", adapter, labels=labels, attn_implementation="eager")
    tok = load_classifier("minilm", labels, device="cpu")[1]
    cfg = model.config
    files = {"ORT fp32": export_onnx(model, f"{tmp}/fp32.onnx", dynamo=True)}
    files["ORT fp32 TorchScript"] = export_onnx(model, f"{tmp}/ts.onnx", dynamo=False, opset=17)   # fewer nodes than the dynamo graph
    legacy = export_onnx(eager_attn, f"{tmp}/legacy.onnx", dynamo=False)
    fused_counts = optimize_transformer(legacy, f"{tmp}/fused.onnx", cfg.num_attention_heads, cfg.hidden_size)
    files["ORT fp32 fused"] = f"{tmp}/fused.onnx"
    for name, signed, pc in [("ORT int8 s8", True, False), ("ORT int8 u8", False, False), ("ORT int8 s8 per-channel", True, True)]:
        files[name] = quantize_int8(files["ORT fp32"], f"{tmp}/{name.replace(' ', '_')}.onnx", signed=signed, per_channel=pc)
    files["ORT int8 s8 fused"] = quantize_int8(files["ORT fp32 fused"], f"{tmp}/fused_int8.onnx")
    sessions = {k: ort_session(p, threads=a.threads) for k, p in files.items()}
    x = random_batch(1, a.seq, cfg.vocab_size, seed=0, pad=False)
    feed = {k: v.numpy() for k, v in x.items()}
    def eager():
        with torch.inference_mode(): model(**x)
    fns = {"eager PyTorch": eager} | {k: (lambda s=s: s.run(["logits"], feed)) for k, s in sessions.items()}
    lat = interleaved_latency(fns, repeats=a.repeats, warmup=10)
    with torch.inference_mode(): ref = classifier_logits(model, tok, test["text"], max_length=128).numpy()
    correct = {"eager PyTorch": ref.argmax(1) == y}
    for k, s in sessions.items(): correct[k] = onnx_logits(s, tok, test["text"]).argmax(1) == y
    mb = {k: os.path.getsize(p) / 2 ** 20 for k, p in files.items()}
    print(f"MiniLM + LoRA (merged), batch 1, sequence {a.seq}, {a.threads} thread(s), {a.repeats} interleaved repeats; "
          f"fusions on the eager-attention TorchScript export: {fused_counts}")
    print(f"{'variant':26s} {'MiB':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'speed-up':>9s} {'accuracy':>9s} {'minus eager [95% CI]':>26s}")
    base = lat["eager PyTorch"]["p50"]
    out = {}
    for k in fns:
        d, lo, hi = bootstrap_ci(correct[k].astype(float) - correct["eager PyTorch"].astype(float))
        print(f"{k:26s} {mb.get(k, float('nan')):6.1f} {lat[k]['p50']:8.2f} {lat[k]['p95']:8.2f} {base / lat[k]['p50']:8.2f}x "
              f"{correct[k].mean():9.3f} {d:+8.3f} [{lo:+.3f}, {hi:+.3f}]")
        out[k] = {"p50_ms": round(lat[k]["p50"], 3), "p95_ms": round(lat[k]["p95"], 3), "speedup": round(base / lat[k]["p50"], 3),
                  "accuracy": round(float(correct[k].mean()), 4), "diff_ci95": [round(d, 4), round(lo, 4), round(hi, 4)]}
    print(json.dumps(out))

if __name__ == "__main__":
    main()
