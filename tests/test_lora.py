"""ftcourse.lora on real models: the proofs of lesson 04 as library tests, PEFT's on-disk format both ways,
and adapters that must be refused without touching the model."""
import json, shutil
import pytest
import torch
from torch import nn
from safetensors.torch import load_file, save_file
from ftcourse.core import seed_everything
from ftcourse.train import load_classifier, count_parameters, train, TrainConfig
from ftcourse.lora import (LoRALinear, inject_lora, lora_layers, merge_lora, unmerge_lora, save_adapter, load_adapter,
                           to_peft, lora_delta, name_matches, replace_module, ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX)

LABELS = ["animal", "plant", "food"]
TEXTS = ["a domesticated carnivorous mammal", "a tall perennial woody plant", "a dish of cooked rice"]


@pytest.fixture(scope="module")
def base():
    return load_classifier("minilm", LABELS, "cpu")


def adapted(r=4, alpha=8, targets=("query", "value")):
    seed_everything(0)
    m, _ = load_classifier("minilm", LABELS, "cpu")
    inject_lora(m, targets, r=r, alpha=alpha, trainable=("classifier", "pooler"))
    with torch.no_grad():
        for layer in lora_layers(m).values(): layer.lora_B.normal_(std=0.05)
    return m.eval()


def logits(m, tok):
    with torch.no_grad(): return m(**tok(TEXTS, padding=True, return_tensors="pt")).logits


def fresh():
    return load_classifier("minilm", LABELS, "cpu")[0].eval()


def test_zero_init_equals_base(base):
    model, tok = base
    seed_everything(1)
    m = fresh()
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
    assert torch.allclose(layer.delta(), 8 * layer.lora_B @ layer.lora_A)


def test_trainable_parameters_are_adapter_and_head():
    m = adapted(r=8, alpha=16)
    names = {n for n, p in m.named_parameters() if p.requires_grad}
    assert all(".lora_" in n or n.startswith(("classifier", "bert.pooler")) for n in names)
    assert "classifier.weight" in names
    trainable, total = count_parameters(m)
    # 12 layers (6 x query, value) of r(d+k) = 8*768, plus pooler 384*384+384 and head 384*3+3
    assert trainable == 12 * 8 * 768 + 384 * 385 + 3 * 385
    assert 22_000_000 < total < 23_500_000


def test_name_matching_and_replacement():
    assert name_matches("bert.encoder.layer.0.attention.self.query", ["query"])
    assert not name_matches("bert.encoder.layer.0.attention.self.query_norm", ["query"])
    assert name_matches("bert.pooler.dense", "pooler", inside=True) and not name_matches("bert.pooler.dense", "pooler")
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 3)))
    old = replace_module(net, "1.1", nn.Identity())
    assert isinstance(old, nn.Linear) and isinstance(net[1][1], nn.Identity)


def test_adapter_roundtrip_in_peft_format(base, tmp_path):
    from peft import PeftModel
    _, tok = base
    m = adapted()
    ref = logits(m, tok)
    save_adapter(m, tmp_path / "a", base_model="minilm")
    cfg = json.loads((tmp_path / "a" / ADAPTER_CONFIG).read_text())
    assert cfg["peft_type"] == "LORA" and cfg["r"] == 4 and cfg["lora_alpha"] == 8 and len(cfg["target_modules"]) == 12
    assert torch.equal(logits(load_adapter(fresh(), tmp_path / "a"), tok), ref)
    by_peft = PeftModel.from_pretrained(fresh(), tmp_path / "a").eval()      # PEFT reads what we wrote
    assert (logits(by_peft, tok) - ref).abs().max() < 1e-5
    peft = to_peft(m, fresh()).eval()
    assert (logits(peft, tok) - ref).abs().max() < 1e-5
    peft.save_pretrained(tmp_path / "p")                                      # and we read what PEFT wrote
    assert (logits(load_adapter(fresh(), tmp_path / "p"), tok) - ref).abs().max() < 1e-5
    assert (logits(peft.merge_and_unload(), tok) - ref).abs().max() < 1e-5


def test_a_peft_trained_adapter_with_short_target_names_loads(base, tmp_path):
    from peft import LoraConfig, TaskType, get_peft_model
    _, tok = base
    seed_everything(3)
    p = get_peft_model(fresh(), LoraConfig(r=4, lora_alpha=12, target_modules=["query", "value"], task_type=TaskType.SEQ_CLS))
    for n, t in p.named_parameters():
        if "lora_B" in n: t.data.normal_(std=0.05)
    p.eval(); p.save_pretrained(tmp_path / "p")
    assert (logits(load_adapter(fresh(), tmp_path / "p"), tok) - logits(p, tok)).abs().max() < 1e-5


def test_training_through_train_moves_only_the_adapter(base):
    from datasets import Dataset
    from transformers import DataCollatorWithPadding
    from ftcourse.data import tokenize_classification
    _, tok = base
    m = adapted()
    frozen = {n: p.detach().clone() for n, p in m.named_parameters() if not p.requires_grad}
    ds = tokenize_classification(Dataset.from_dict({"text": TEXTS * 8, "label": ["animal", "plant", "food"] * 8}), tok, LABELS)
    res = train(m, ds, TrainConfig(epochs=3, lr=2e-3, batch_size=6, progress=False), collate_fn=DataCollatorWithPadding(tok))
    losses = [h["loss"] for h in res["history"] if "loss" in h]
    assert losses[-1] < losses[0]
    assert all(torch.equal(p, frozen[n]) for n, p in m.named_parameters() if n in frozen)


# --- bad input gets a clear error, and a refused adapter changes nothing -----------------------------

def test_bad_rank_alpha_and_layer_type():
    with pytest.raises(ValueError, match="rank r=0"): LoRALinear(nn.Linear(4, 4), r=0)
    with pytest.raises(ValueError, match="rank r=9"): LoRALinear(nn.Linear(8, 16), r=9)
    with pytest.raises(ValueError, match="rank r='4'"): LoRALinear(nn.Linear(8, 16), r="4")
    with pytest.raises(ValueError, match="alpha"): LoRALinear(nn.Linear(8, 16), alpha=float("nan"))
    with pytest.raises(TypeError, match="nn.Linear"): LoRALinear(nn.Conv1d(4, 4, 1))


def test_no_matching_targets_lists_what_exists():
    with pytest.raises(ValueError, match=r"no nn.Linear module matches targets \['q_proj'\].*query"):
        inject_lora(fresh(), ("q_proj",))
    with pytest.raises(ValueError, match="non-empty module names"): inject_lora(fresh(), ("query",), trainable=("",))


def test_a_refused_rank_leaves_the_model_as_it_was():
    m = fresh()
    before = {n: p.requires_grad for n, p in m.named_parameters()}
    with pytest.raises(ValueError, match="rank"): inject_lora(m, ("query", "classifier"), r=5)   # the 3-class head cannot take r=5
    assert not lora_layers(m) and {n: p.requires_grad for n, p in m.named_parameters()} == before


def test_adapter_for_another_base_model(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification
    save_adapter(adapted(), tmp_path / "a")
    other = BertForSequenceClassification(BertConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                                                     intermediate_size=512, num_labels=3))
    with pytest.raises(ValueError, match="wrong base model"): load_adapter(other, tmp_path / "a")
    shallow = BertForSequenceClassification(BertConfig(hidden_size=384, num_hidden_layers=2, num_attention_heads=12, num_labels=3))
    with pytest.raises(ValueError, match="layer.*this model does not have.*wrong base model"): load_adapter(shallow, tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="not an adapter"): load_adapter(other, tmp_path)


def _tampered(tmp_path, name, config=None, tensors=None):
    "A copy of a good adapter with its config and/or tensors changed."
    src = tmp_path / "good"
    if not src.exists(): save_adapter(adapted(), src)
    dst = tmp_path / name
    shutil.copytree(src, dst)
    if config is not None:
        cfg = json.loads((dst / ADAPTER_CONFIG).read_text()); config(cfg)
        (dst / ADAPTER_CONFIG).write_text(json.dumps(cfg))
    if tensors is not None:
        sd = load_file(dst / ADAPTER_WEIGHTS); tensors(sd); save_file(sd, dst / ADAPTER_WEIGHTS)
    return dst


def _drop(sd, suffix): del sd[next(k for k in sd if k.endswith(suffix))]


BAD_ADAPTERS = {
    "no head tensors": (None, lambda sd: [sd.pop(k) for k in list(sd) if "classifier" in k], "lacks"),
    "one lora_B missing": (None, lambda sd: _drop(sd, "value.lora_B.weight"), "lacks"),
    "a base weight": (None, lambda sd: sd.update({PEFT_PREFIX + "bert.embeddings.word_embeddings.weight": torch.zeros(30522, 384)}), "not part of this adapter"),
    "alpha NaN": (lambda c: c.update(lora_alpha=float("nan")), None, "lora_alpha"),
    "alpha 1e30": (lambda c: c.update(lora_alpha=1e30), None, "lora_alpha"),
    "empty module to save": (lambda c: c.update(modules_to_save=[""]), None, "modules_to_save"),
    "r as a string": (lambda c: c.update(r="4"), None, "'r' must be an int"),
    "r missing": (lambda c: c.pop("r"), None, "'r' must be an int"),
    "rank that disagrees with the tensors": (lambda c: c.update(r=8), None, "this model needs"),
    "dora": (lambda c: c.update(use_dora=True), None, "use_dora"),
    "not lora": (lambda c: c.update(peft_type="IA3"), None, "only LoRA"),
    "a NaN weight": (None, lambda sd: next(v for k, v in sd.items() if "lora_A" in k).fill_(float("nan")), "not finite"),
}


@pytest.mark.parametrize("case", BAD_ADAPTERS)
def test_bad_adapters_are_refused_and_leave_the_model_untouched(case, tmp_path):
    config, tensors, message = BAD_ADAPTERS[case]
    path = _tampered(tmp_path, "bad", config, tensors)
    m = fresh()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    grads = {n: p.requires_grad for n, p in m.named_parameters()}
    with pytest.raises(ValueError, match=message): load_adapter(m, path)
    assert not lora_layers(m)
    assert m.state_dict().keys() == before.keys() and all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
    assert {n: p.requires_grad for n, p in m.named_parameters()} == grads


def test_broken_files_name_the_file(tmp_path):
    path = _tampered(tmp_path, "json")
    (path / ADAPTER_CONFIG).write_text("{not json")
    with pytest.raises(ValueError, match="adapter_config.json: not valid JSON"): load_adapter(fresh(), path)
    path = _tampered(tmp_path, "weights")
    (path / ADAPTER_WEIGHTS).write_bytes(b"\x00" * 20)
    with pytest.raises(ValueError, match="adapter_model.safetensors: not a readable safetensors file"): load_adapter(fresh(), path)


def test_merged_or_repeated_adapters_are_refused(tmp_path):
    m = merge_lora(adapted())
    with pytest.raises(ValueError, match="unmerge"): save_adapter(m, tmp_path / "a")
    unmerge_lora(m); save_adapter(m, tmp_path / "a")
    with pytest.raises(ValueError, match="already has LoRA layers"): load_adapter(m, tmp_path / "a")


def test_classifier_needs_labels():
    with pytest.raises(ValueError, match="at least 2 labels"): load_classifier("minilm", ["only"])
    with pytest.raises(ValueError, match="distinct"): load_classifier("minilm", ["a", "a"])
