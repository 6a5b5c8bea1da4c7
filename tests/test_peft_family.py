"""ftcourse.peft_family: BitFit, IA3 and prompt tuning against PEFT on a small random BERT, the parameter formulas
for every method, AdaLoRA's per-step hook inside `train`, merging for serving, and a comparison that resumes."""
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader
from transformers import BertConfig, BertForSequenceClassification
from peft import get_peft_model, IA3Config, PromptTuningConfig, BeftConfig, TaskType

from ftcourse.peft_family import (HEAD_MODULES, PEFT_METHODS, IA3Linear, PromptTuning, adalora_budget, bitfit, compare_methods,
                                  ia3_layers, inject_ia3, merge_for_serving, merge_ia3, prepare_method, trainable_by_formula)
from ftcourse.train import TrainConfig, count_parameters, train

SMALL = dict(r=2, adalora_r0=4, vera_r=16, oft_block=16, boft_block=4, virtual_tokens=3, encoder_hidden=8)
SAVE = ["classifier", "pooler.dense"]


def tiny(seed=0, labels=3, vocab=100):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                     max_position_embeddings=64, num_labels=labels, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return BertForSequenceClassification(cfg).eval()


def batch(seed=1, n=4, length=7, vocab=100):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(n, length, dtype=torch.long); mask[0, 5:] = 0
    return {"input_ids": torch.randint(1, vocab, (n, length), generator=g), "attention_mask": mask,
            "token_type_ids": torch.zeros(n, length, dtype=torch.long), "labels": torch.randint(0, 3, (n,), generator=g)}


def strip(name, key):
    return name.removeprefix("base_model.model.").removeprefix("base_model.").replace(f".{key}.default", f".{key}").replace(".modules_to_save.default", "")


def test_bitfit_selects_biases_by_module_type_and_equals_beft():
    ours = bitfit(tiny())
    names = {n for n, p in ours.named_parameters() if p.requires_grad}
    linear_biases = {f"{n}.bias" for n, m in ours.named_modules() if isinstance(m, nn.Linear)}
    head = {n for n, _ in ours.named_parameters() if n.startswith(("classifier", "bert.pooler"))}
    assert names == linear_biases | head and not any("LayerNorm" in n for n in names)
    with_norms = {n for n, p in bitfit(tiny(), norms=True).named_parameters() if p.requires_grad}
    assert with_norms - names == {f"{n}.bias" for n, m in ours.named_modules() if isinstance(m, nn.LayerNorm)}
    theirs = get_peft_model(tiny(), BeftConfig(target_modules=r".*encoder.*\.(query|key|value|dense)", task_type=TaskType.SEQ_CLS, modules_to_save=list(SAVE)))
    assert count_parameters(ours)[0] == count_parameters(theirs)[0]
    g, ours_p = torch.Generator().manual_seed(3), dict(ours.named_parameters())
    with torch.no_grad():
        for n, p in theirs.named_parameters():
            if "beft_bias" in n:
                d = torch.randn(p.shape, generator=g) * 0.1; p.copy_(d); ours_p[strip(n, "beft_bias").replace(".beft_bias", ".bias")].add_(d.flatten())
    b = batch()
    assert torch.allclose(ours(**b).logits, theirs(**b).logits, atol=1e-6)
    with pytest.raises(ValueError, match="nothing to train"): bitfit(nn.Sequential(nn.Linear(2, 2, bias=False)))


@pytest.mark.parametrize("targets,feedforward", [(("key", "value", "output.dense"), ("output.dense",)),
                                                 (r".*\.(key|value)|.*layer\.\d+\.output\.dense", r".*layer\.\d+\.output\.dense")])
def test_ia3_equals_peft_and_merges(targets, feedforward):
    ours = inject_ia3(tiny(), targets=targets, feedforward=feedforward)
    theirs = get_peft_model(tiny(), IA3Config(task_type=TaskType.SEQ_CLS, target_modules=list(targets) if isinstance(targets, tuple) else targets,
                                              feedforward_modules=list(feedforward) if isinstance(feedforward, tuple) else feedforward, modules_to_save=list(SAVE)))
    assert count_parameters(ours)[0] == count_parameters(theirs)[0]
    g, ours_p = torch.Generator().manual_seed(4), dict(ours.named_parameters())
    with torch.no_grad():
        for n, p in theirs.named_parameters():
            if "ia3_l" in n:
                v = 1 + 0.5 * torch.randn(ours_p[strip(n, "ia3_l")].shape, generator=g); ours_p[strip(n, "ia3_l")].copy_(v); p.copy_(v.view(p.shape))
        b = batch()
        ref = ours(**b).logits
        assert torch.allclose(ref, theirs(**b).logits, atol=1e-6)
        weights = {n: m.base.weight.clone() for n, m in ia3_layers(ours).items()}
        for m in ia3_layers(ours).values(): m.merge()
        assert torch.allclose(ours(**b).logits, ref, atol=1e-5)
        for m in ia3_layers(ours).values(): m.unmerge()
        assert all(torch.allclose(ia3_layers(ours)[n].base.weight, w, atol=1e-6) for n, w in weights.items())
        merge_ia3(ours)
        assert not ia3_layers(ours) and torch.allclose(ours(**b).logits, ref, atol=1e-5)


def test_ia3_layer_edges():
    layer = IA3Linear(nn.Linear(5, 3), feedforward=True)
    assert layer.ia3_l.shape == (5,) and not layer.base.weight.requires_grad and torch.equal(layer.ia3_l, torch.ones(5))
    with torch.no_grad(): layer.ia3_l[0] = 0.0
    layer.merge()
    with pytest.raises(ValueError, match="cannot be unmerged"): layer.unmerge()
    with pytest.raises(TypeError): IA3Linear(nn.Conv1d(2, 2, 1))
    with pytest.raises(ValueError, match="no nn.Linear module matches"): inject_ia3(tiny(), targets=("q_proj",))


def test_prompt_tuning_equals_peft():
    ours = PromptTuning(tiny(), num_virtual_tokens=3, seed=5)
    theirs = get_peft_model(tiny(), PromptTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=3, modules_to_save=list(SAVE)))
    assert count_parameters(ours)[0] == count_parameters(theirs)[0] == 3 * 32 + 32 * 32 + 32 + 32 * 3 + 3
    with torch.no_grad():
        theirs.prompt_encoder["default"].embedding.weight.copy_(ours.prompt)
        b = batch()
        assert torch.allclose(ours(**b).logits, theirs(**b).logits, atol=1e-6)
        emb = ours.model.get_input_embeddings()(b["input_ids"])
        assert torch.allclose(ours(inputs_embeds=emb, attention_mask=b["attention_mask"]).logits,
                              ours(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits, atol=1e-6)
    assert torch.equal(PromptTuning(tiny(), 3, seed=5).prompt, ours.prompt)          # the seed fixes the vocabulary draw
    with pytest.raises(ValueError, match=r"expected \(2, 32\)"): PromptTuning(tiny(), 2, init=torch.zeros(2, 5))
    with pytest.raises(ValueError, match="no room"): PromptTuning(tiny(), 64)
    with pytest.raises(ValueError, match="positive int"): PromptTuning(tiny(), 0)


def test_formula_matches_count_for_every_method():
    for method in PEFT_METHODS:
        model = prepare_method(method, tiny(), total_steps=20, **SMALL)
        assert trainable_by_formula(method, tiny().config, 3, **SMALL) == count_parameters(model)[0], method
    with pytest.raises(ValueError, match="unknown method"): prepare_method("LoRA-XL", tiny())


def test_adalora_budget_runs_inside_train():
    model = prepare_method("AdaLoRA", tiny(), total_steps=8, **SMALL)
    with adalora_budget(model) as calls:
        run = train(model, DataLoader([batch()] * 8, batch_size=None), TrainConfig(max_steps=8, lr=1e-2, warmup=0, progress=False, load_best=False))
    assert len(calls) == run["steps"] == 8
    assert model.peft_config["default"].rank_pattern                    # ranks were allocated
    other = prepare_method("AdaLoRA", tiny(), total_steps=8, **SMALL)
    torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1).step()     # an unrelated optimizer outside the block: no call
    with adalora_budget(other) as calls: torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1).step()
    assert calls == []
    with pytest.raises(TypeError, match="not a PEFT AdaLoRA model"):
        with adalora_budget(tiny()): pass


def test_merge_for_serving_by_family():
    b = batch()
    for method in ("LoRA", "IA3", "BitFit", "prompt tuning", "prefix tuning"):
        model = prepare_method(method, tiny(), total_steps=10, **SMALL).eval()
        with torch.no_grad():
            for n, p in model.named_parameters():
                if p.requires_grad: p.add_(0.05 * torch.randn_like(p))
            before = model(**b).logits
            served, folded = merge_for_serving(model)
            assert folded == PEFT_METHODS[method][2], method
            assert torch.allclose(served(**b).logits, before, atol=1e-5), method


def test_compare_methods_chooses_on_validation_and_resumes(tmp_path, monkeypatch):
    from datasets import Dataset
    from ftcourse.core import model_path
    from transformers import AutoTokenizer
    import ftcourse.peft_family as pf
    tok = AutoTokenizer.from_pretrained(model_path("minilm"))
    tiny(vocab=tok.vocab_size).save_pretrained(tmp_path / "tiny"); tok.save_pretrained(tmp_path / "tiny")
    texts = ["a small dog", "a tall tree", "a red apple", "an old house", "a quick fox", "a green leaf"]
    enc = Dataset.from_dict({"text": texts, "label": [0, 1, 2, 0, 1, 2]}).map(lambda b: tok(b["text"]), batched=True)
    enc = enc.rename_column("label", "labels").remove_columns("text")
    evals = {"validation": (texts[:3], [0, 1, 2]), "test": (texts[3:], [0, 1, 2])}
    cfg = TrainConfig(max_steps=1, batch_size=3, progress=False, load_best=False)
    kw = dict(lrs=(1e-3, 1e-2), seeds=(0, 1), runs_dir=tmp_path / "runs", log=None, model_name=str(tmp_path / "tiny"), device="cpu")
    first = compare_methods(["LoRA", "BitFit"], enc, evals, cfg, tok, ["a", "b", "c"], **kw)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2 * (2 + 1)
    for r in first.values():
        assert r["lr"] == max(r["search"], key=r["search"].get) and [x["seed"] for x in r["runs"]] == [0, 1]
        assert all(x["lr"] == r["lr"] and len(x["test"]["correct"]) == 3 for x in r["runs"])
    monkeypatch.setattr(pf, "fit_method", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = compare_methods(["LoRA", "BitFit"], enc, evals, cfg, tok, ["a", "b", "c"], **kw)       # read back, not trained
    assert {m: (r["lr"], [x["test"]["correct"] for x in r["runs"]]) for m, r in again.items()} == \
           {m: (r["lr"], [x["test"]["correct"] for x in r["runs"]]) for m, r in first.items()}
    with pytest.raises(ValueError, match="validation"): compare_methods(["LoRA"], enc, {"test": evals["test"]}, cfg, tok, ["a", "b", "c"], **kw)
