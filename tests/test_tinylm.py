"""The bundled causal LM (`tinylm`): loads offline, has the format scripts/build_tinylm.py writes, and is genuinely trained."""
import json, os
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
from ftcourse.core import model_path, load_bundled, seed_everything
from ftcourse.pretrain import perplexity, llama_param_count, SPECIAL_TOKENS, ROLE_TOKENS, CHAT_TEMPLATE

TINY = Path(model_path("tinylm"))


@pytest.fixture(scope="module")
def tiny():
    return AutoModelForCausalLM.from_pretrained(TINY).eval(), AutoTokenizer.from_pretrained(TINY)


@pytest.fixture(scope="module")
def report():
    return json.loads((TINY / "training_report.json").read_text())


def test_files_and_report(report):
    for f in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training_report.json"]:
        assert (TINY / f).exists(), f"{f} missing from {TINY}"
    assert {"seed", "steps", "batch_size", "block_size", "tokens", "seconds", "model", "parameters",
            "final_train_loss", "perplexity", "loss_curve", "software"} <= set(report)
    assert report["tokens"] == report["steps"] * report["batch_size"] * report["block_size"]
    assert len(report["loss_curve"]["step"]) == len(report["loss_curve"]["loss"]) > 10
    assert report["loss_curve"]["loss"][-1] < report["loss_curve"]["loss"][0] - 3       # trained, not just initialised
    ppl = report["perplexity"]
    assert ppl["random_test"] / ppl["test"] >= 10 and ppl["random_validation"] / ppl["validation"] >= 10
    assert (TINY / "model.safetensors").stat().st_size < 12e6                            # a few MB of package data


def test_weights_are_float32_and_tied():
    with safe_open(TINY / "model.safetensors", "pt") as f:
        names = list(f.keys())
        assert all(f.get_slice(n).get_dtype() == "F32" for n in names)
    assert "lm_head.weight" not in names                                                 # tied: stored once


def test_config_matches_report_and_formula(tiny, report):
    model, tok = tiny
    cfg = model.config
    assert cfg.model_type == "llama" and cfg.vocab_size == len(tok) and cfg.tie_word_embeddings
    for k, v in report["model"].items():
        if k != "architecture": assert getattr(cfg, k) == v, f"config.{k} = {getattr(cfg, k)}, the report says {v}"
    assert cfg.max_position_embeddings == report["block_size"] == tok.model_max_length
    n = sum(p.numel() for p in model.parameters())
    assert n == llama_param_count(cfg) == report["parameters"]
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


def test_tokenizer_format(tiny):
    _, tok = tiny
    for k, v in SPECIAL_TOKENS.items(): assert getattr(tok, k) == v
    assert (tok.eos_token_id, tok.pad_token_id, tok.bos_token_id) == (tiny[0].config.eos_token_id, tiny[0].config.pad_token_id, tiny[0].config.bos_token_id)
    assert len({tok.eos_token_id, tok.pad_token_id, tok.bos_token_id, tok.unk_token_id}) == 4
    for t in ROLE_TOKENS: assert len(tok(t, add_special_tokens=False)["input_ids"]) == 1, f"{t} is split"
    s = "naïve café — 東京, dog (noun): a member of the genus Canis"
    assert tok.decode(tok(s)["input_ids"]) == s                                         # byte-level: lossless
    assert tok.chat_template == CHAT_TEMPLATE


def test_genuinely_trained(tiny):
    "Held-out (test split) perplexity at least 10x lower than a random model of the same shape."
    model, tok = tiny
    test = list(load_bundled("wordnet_lm")["test"]["text"])[:400]
    seed_everything(0)
    rand = LlamaForCausalLM(model.config).eval()
    trained, random_ = perplexity(model, tok, test), perplexity(rand, tok, test)
    assert random_ / trained >= 10, f"trained {trained:.1f} vs random {random_:.1f}"


def test_generation_and_chat_template(tiny):
    model, tok = tiny
    msgs = [{"role": "system", "content": "You define words."}, {"role": "user", "content": 'Define the word "dog" (noun).'}]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert text == '<|system|>\nYou define words.<|eos|>\n<|user|>\nDefine the word "dog" (noun).<|eos|>\n<|assistant|>\n'
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_dict=True, return_tensors="pt")
    assert ids["input_ids"].shape[1] < 40
    x = tok("dog (noun):", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**x, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
        chat_out = model.generate(**ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > x["input_ids"].shape[1] and chat_out.shape[1] > ids["input_ids"].shape[1]
    text = tok.decode(out[0], skip_special_tokens=True)
    assert text.startswith("dog (noun):") and len(text) > len("dog (noun):") + 5
