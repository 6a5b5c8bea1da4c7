"""ftcourse.lora on real models: the proofs of lesson 04 as library tests, and bad input."""
import json
import pytest
import torch
from torch import nn
from ftcourse.core import seed_everything
from ftcourse.lora import (LoRALinear, inject_lora, lora_layers, merge_lora, unmerge_lora, count_parameters,
                           save_adapter, load_adapter, to_peft, load_classifier, lora_delta, ADAPTER_CONFIG)

LABELS = ["animal", "plant", "food"]
TEXTS = ["a domesticated carnivorous mammal", "a tall perennial woody plant", "a dish of cooked rice"]


@pytest.fixture(scope="module")
def base():
    return load_classifier("minilm", LABELS)


def adapted(r=4, alpha=8, targets=("query", "value")):
    seed_everything(0)
    m, _ = load_classifier("minilm", LABELS)
    inject_lora(m, targets, r=r, alpha=alpha, trainable=("classifier", "pooler"))
    with torch.no_grad():
        for layer in lora_layers(m).values(): layer.lora_B.normal_(std=0.05)
    return m.eval()


def logits(m, tok):
    with torch.no_grad(): return m(**tok(TEXTS, padding=True, return_tensors="pt")).logits


def test_zero_init_equals_base(base):
    model, tok = base
    seed_everything(1)
    m, _ = load_classifier("minilm", LABELS)
    m.load_state_dict(model.state_dict())
    ref = logits(model.eval(), tok)
    inject_lora(m, ("query", "key", "value", "dense"), r=8, alpha=16)
    assert torch.equal(logits(m.eval(), tok), ref)


def test_merge_unmerge_and_scale(base):
    _, tok = base
    m = adapted(r=4, alpha=32)          # alpha != r: a missing 1/r would show
    before = logits(m, tok)
    w = {n: l.base.weight.detach().clone() for n, l in lora_layers(m).items()}
    merge_lora(m)
    assert (logits(m, tok) - before).abs().max() < 1e-5
    unmerge_lora(m)
    assert all(torch.allclose(l.base.weight, w[n], atol=1e-6) for n, l in lora_layers(m).items())
    layer = next(iter(lora_layers(m).values()))
    assert torch.allclose(lora_delta(layer.lora_A, layer.lora_B, 32), 8 * layer.lora_B @ layer.lora_A)


def test_trainable_parameters_are_adapter_and_head():
    m = adapted(r=8, alpha=16)
    names = {n for n, p in m.named_parameters() if p.requires_grad}
    assert all(".lora_" in n or n.startswith(("classifier", "bert.pooler")) for n in names)
    assert "classifier.weight" in names
    trainable, total = count_parameters(m)
    # 12 layers (6 x query, value) of r(d+k) = 8*768, plus pooler 384*384+384 and head 384*3+3
    assert trainable == 12 * 8 * 768 + 384 * 385 + 3 * 385
    assert 22_000_000 < total < 23_500_000


def test_adapter_roundtrip_and_peft_conversion(base, tmp_path):
    _, tok = base
    m = adapted()
    ref = logits(m, tok)
    save_adapter(m, tmp_path / "a", base_model="minilm")
    cfg = json.loads((tmp_path / "a" / ADAPTER_CONFIG).read_text())
    assert cfg["r"] == 4 and cfg["alpha"] == 8 and len(cfg["targets"]) == 12
    again = load_adapter(load_classifier("minilm", LABELS)[0].eval(), tmp_path / "a")
    assert torch.equal(logits(again, tok), ref)
    peft = to_peft(m, load_classifier("minilm", LABELS)[0]).eval()
    assert (logits(peft, tok) - ref).abs().max() < 1e-5
    merged = peft.merge_and_unload()
    assert (logits(merged, tok) - ref).abs().max() < 1e-5


def test_training_moves_only_the_adapter(base):
    from datasets import Dataset
    from ftcourse.lora import train_classifier
    _, tok = base
    m = adapted()
    frozen = {n: p.detach().clone() for n, p in m.named_parameters() if not p.requires_grad}
    ds = Dataset.from_dict({"text": TEXTS * 8, "label_id": [0, 1, 2] * 8})
    h = train_classifier(m, tok, ds, epochs=3, lr=2e-3, batch_size=6, progress=False)
    assert h["loss"][-1] < h["loss"][0]
    assert all(torch.equal(p, frozen[n]) for n, p in m.named_parameters() if n in frozen)


# --- bad input gets a clear error ---------------------------------------------------------------

def test_bad_rank_and_layer_type():
    with pytest.raises(ValueError, match="rank r=0"): LoRALinear(nn.Linear(4, 4), r=0)
    with pytest.raises(ValueError, match="rank r=9"): LoRALinear(nn.Linear(8, 16), r=9)
    with pytest.raises(TypeError, match="nn.Linear"): LoRALinear(nn.Conv1d(4, 4, 1))


def test_no_matching_targets_lists_what_exists():
    m, _ = load_classifier("minilm", LABELS)
    with pytest.raises(ValueError, match=r"no nn.Linear module matches targets \['q_proj'\].*query"):
        inject_lora(m, ("q_proj",))


def test_adapter_for_another_base_model(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification
    save_adapter(adapted(), tmp_path / "a")
    other = BertForSequenceClassification(BertConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                                                     intermediate_size=512, num_labels=3))
    with pytest.raises(ValueError, match="adapter was trained for layer .* 384->384, this model has 256->256"):
        load_adapter(other, tmp_path / "a")
    shallow = BertForSequenceClassification(BertConfig(hidden_size=384, num_hidden_layers=2, num_attention_heads=12, num_labels=3))
    with pytest.raises(ValueError, match="which this model does not have"):
        load_adapter(shallow, tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="not an adapter"):
        load_adapter(other, tmp_path)


def test_merged_adapter_is_not_saved(tmp_path):
    m = merge_lora(adapted())
    with pytest.raises(ValueError, match="unmerge"): save_adapter(m, tmp_path / "a")


def test_classifier_needs_labels():
    with pytest.raises(ValueError, match="at least 2 labels"): load_classifier("minilm", ["only"])
