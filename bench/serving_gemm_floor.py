"""Why ONNX Runtime fp32 is not 2x faster than eager PyTorch on MiniLM at batch 1, sequence 64, one thread: the
encoder's Linear layers alone (its 36 matrix products, the same shapes and weights) already take most of the eager
forward pass, and ONNX Runtime's fp32 GEMMs are not faster than PyTorch's. A runtime that removed every other cost
(attention, layer norms, GELU, Python dispatch) would still run at least these products, so
eager / (ORT GEMMs only) bounds the fp32 speed-up any graph optimisation can give. Int8 changes the products
themselves, which is why it can pass 3x. Everything is timed round-robin in one run (medians).

    .venv/bin/python bench/serving_gemm_floor.py [--repeats 100] [--seq 64]
"""
import argparse, json, os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, onnxruntime as ort
from onnx import helper, TensorProto, numpy_helper
from ftcourse.train import load_classifier
from ftcourse.serving import random_batch, interleaved_latency, export_onnx, ort_session

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=100); ap.add_argument("--seq", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model = load_classifier("minilm", [f"class {i}" for i in range(10)], device="cpu")[0].eval()
    lins = [m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ".encoder." in n]
    h = {m.in_features: torch.randn(1, a.seq, m.in_features) for m in lins}
    def torch_gemms():
        with torch.inference_mode():
            for m in lins: m(h[m.in_features])
    nodes, inits, inputs = [], [], []
    for i, m in enumerate(lins):   # the same products as one ONNX graph: MatMul + bias Add per layer
        inputs.append(helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, [1, a.seq, m.in_features]))
        inits += [numpy_helper.from_array(m.weight.detach().numpy().T.copy(), f"w{i}"), numpy_helper.from_array(m.bias.detach().numpy(), f"b{i}")]
        nodes += [helper.make_node("MatMul", [f"x{i}", f"w{i}"], [f"y{i}"]), helper.make_node("Add", [f"y{i}", f"b{i}"], [f"o{i}"])]
    outs = [helper.make_tensor_value_info(f"o{i}", TensorProto.FLOAT, None) for i in range(len(lins))]
    mp = helper.make_model(helper.make_graph(nodes, "gemms", inputs, outs, inits), opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    so = ort.SessionOptions(); so.intra_op_num_threads = so.inter_op_num_threads = 1; so.log_severity_level = 3
    gemm_sess = ort.InferenceSession(mp.SerializeToString(), so, providers=["CPUExecutionProvider"])
    gemm_feed = {f"x{i}": h[m.in_features].numpy() for i, m in enumerate(lins)}
    import tempfile
    full = ort_session(export_onnx(model, f"{tempfile.mkdtemp()}/fp32.onnx", dynamo=False, opset=17), threads=1)
    x = random_batch(1, a.seq, model.config.vocab_size, pad=False); feed = {k: v.numpy() for k, v in x.items()}
    def eager():
        with torch.inference_mode(): model(**x)
    fns = {"eager PyTorch (full)": eager, "ORT fp32 (full)": lambda: full.run(["logits"], feed),
           "PyTorch GEMMs only": torch_gemms, "ORT GEMMs only": lambda: gemm_sess.run(None, gemm_feed)}
    lat = interleaved_latency(fns, repeats=a.repeats, warmup=10)
    flops = sum(2 * a.seq * m.in_features * m.out_features for m in lins)
    print(f"MiniLM, batch 1, sequence {a.seq}, 1 thread; {len(lins)} encoder Linear layers, {flops / 1e9:.2f} GFLOP")
    for k, v in lat.items(): print(f"{k:22s} p50 {v['p50']:6.2f} ms   {flops / v['p50'] / 1e6:6.1f} GFLOP/s if it were only the GEMMs")
    e = lat["eager PyTorch (full)"]["p50"]
    out = {"eager_over_ort_full": e / lat["ORT fp32 (full)"]["p50"], "eager_over_ort_gemm_floor": e / lat["ORT GEMMs only"]["p50"],
           "gemm_share_of_eager": lat["PyTorch GEMMs only"]["p50"] / e}
    print(f"eager / ORT fp32: {out['eager_over_ort_full']:.2f}x; bound (eager / ORT GEMMs only): {out['eager_over_ort_gemm_floor']:.2f}x; "
          f"GEMMs are {100 * out['gemm_share_of_eager']:.0f}% of the eager forward")
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))

if __name__ == "__main__":
    main()
