"""ftcourse.quant against bitsandbytes and against measurement: codes, layers, QLoRA gradients, the memory calculator."""
import logging
import pytest
import torch
from torch import nn
import torch.nn.functional as F

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
bnbF = pytest.importorskip("bitsandbytes.functional")
from ftcourse.quant import nf4_levels, nf4_quantize, unpack_4bit, pack_4bit, NF4Linear, QLoRALinear, quantize_linears, add_qlora, load_qlora
from ftcourse.memory import training_memory, measure_training_memory, TensorMemoryTracker, activation_bytes, meta_model, known_config


@pytest.mark.parametrize("shape,dq", [((256, 192), False), ((300, 70), True), ((64,), True)])
def test_nf4_codes_equal_bitsandbytes(shape, dq):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(1)) * 0.03
    ours = nf4_quantize(w, double_quant=dq)
    q, st = bnbF.quantize_4bit(w, blocksize=64, quant_type="nf4", compress_statistics=dq)
    n = w.numel()
    assert torch.equal(unpack_4bit(ours.packed)[:n], unpack_4bit(q.reshape(-1))[:n])
    assert torch.allclose(nf4_levels(), st.code, atol=2e-7)
    ref = bnbF.dequantize_4bit(q, st)
    assert ours.dequantize().shape == w.shape
    assert torch.allclose((ours.dequantize() - w).abs().mean(), (ref - w).abs().mean(), rtol=1e-2)


def test_bits_per_parameter_and_bad_input():
    t = nf4_quantize(torch.randn(1024, 1024))
    assert abs(t.bits_per_parameter - (4 + 8 / 64 + 32 / (64 * 256))) < 1e-3
    with pytest.raises(TypeError, match="float tensor"): nf4_quantize(torch.ones(4, dtype=torch.int32))
    with pytest.raises(ValueError, match="even number"): pack_4bit(torch.zeros(3, dtype=torch.uint8))
    with pytest.raises(TypeError, match="nn.Linear"): NF4Linear(nn.Conv1d(2, 2, 1))


def test_nf4_layer_saves_no_full_precision_weight_and_gradients_agree():
    torch.manual_seed(0)
    lin = nn.Linear(512, 512)
    layer = QLoRALinear(NF4Linear(lin), r=4)
    layer.lora_B.data.normal_()
    x = torch.randn(8, 512, requires_grad=True)
    with TensorMemoryTracker() as t:
        out = layer(x)
    assert t.current < 512 * 512 * 4 / 2     # what stays alive after forward is far less than one float32 weight
    out.sum().backward()
    xr = x.detach().clone().requires_grad_(True)
    F.linear(xr, layer.merged_weight(), lin.bias).sum().backward()
    assert torch.allclose(x.grad, xr.grad, atol=1e-4)


def test_from_scratch_qlora_trains():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    quantize_linears(model, skip=("2",))
    add_qlora(model, targets=("0",), r=4, trainable=("2",))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(trainable) == ["0.lora_A", "0.lora_B", "2.bias", "2.weight"]
    x = torch.randn(256, 64); y = x[:, :1] * 2
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(100):
        loss = F.mse_loss(model(x), y); loss.backward(); opt.step(); opt.zero_grad(); losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    with pytest.raises(ValueError, match="no NF4Linear matches"): add_qlora(model, targets=("nope",))


def test_bitsandbytes_qlora_keeps_gradients_after_evaluation():
    "bitsandbytes 0.50 on AVX512-BF16 CPUs repacks 4-bit weights in eval mode into a layout with no backward."
    model, _ = load_qlora("tinylm", device="cpu")
    for n, p in model.named_parameters():
        if "lora_B" in n: p.data.normal_(0, 0.05)
    ids = torch.randint(10, 1000, (2, 16))
    def grads():
        model.zero_grad(); model(input_ids=ids, labels=ids).loss.backward()
        return torch.cat([p.grad.reshape(-1) for n, p in model.named_parameters() if "lora_A" in n])
    before = grads()
    model.eval()
    with torch.no_grad(): model(input_ids=ids)
    model.train()
    assert torch.allclose(before, grads(), atol=1e-6)


def test_calculator_matches_measured_peak_on_the_bundled_lm():
    ids = torch.randint(10, 1000, (4, 128), generator=torch.Generator().manual_seed(0))
    for method in ("lora", "qlora"):
        model, _ = load_qlora("tinylm", quantize=method == "qlora", device="cpu")
        measured = measure_training_memory(model, {"input_ids": ids, "labels": ids})
        est = training_memory("tinylm", method, 4, 128).peak
        assert 0.8 < est / measured < 1.2, (method, est, measured)


def test_calculator_facts_for_a_7b_llama():
    from transformers import LlamaConfig
    cfg = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000, architectures=["LlamaForCausalLM"])
    full = training_memory(cfg, "full", 1, 512)
    mixed = training_memory(cfg, "full", 1, 512, torch.bfloat16, mixed_precision=True)
    q = training_memory(cfg, "qlora", 1, 512, torch.bfloat16, lora_r=16)
    assert 6.7e9 < full.params < 6.8e9
    assert (mixed.weights + mixed.gradients + mixed.optimizer) == 16 * full.params
    assert training_memory(cfg, "full", 1, 512, optimizer="adamw8bit").optimizer < 0.3 * full.optimizer
    assert 4.0e9 < q.weights < 4.8e9 and q.trainable < 0.01 * q.params
    offline = training_memory("meta-llama/Llama-2-7b-hf", "qlora", 1, 512, torch.bfloat16, lora_r=16)   # no network: a known configuration
    assert offline.params == full.params and offline.weights == q.weights
    with pytest.raises(ValueError, match="method"): training_memory(cfg, "dora")
    with pytest.raises(ValueError, match="optimizer"): training_memory(cfg, optimizer="lion")


def test_activation_trace_uses_no_memory_and_grows_with_tokens():
    m = meta_model("tinylm")
    a1, a2 = activation_bytes(m, 2, 64), activation_bytes(m, 4, 64)
    assert all(p.device.type == "meta" for p in m.parameters())
    assert 1.9 < a2 / a1 < 2.1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_qlora_on_cuda_matches_calculator():
    ids = torch.randint(10, 1000, (32, 256), device="cuda")
    model, _ = load_qlora("tinylm", device="cuda")
    measured = measure_training_memory(model, {"input_ids": ids, "labels": ids})
    assert 0.8 < training_memory("tinylm", "qlora", 32, 256).peak / measured < 1.2
