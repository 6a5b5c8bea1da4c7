"""The bundled causal LM (`tinylm`): loads offline, has the format build_tinylm.py writes, and is genuinely trained."""
import json
from pathlib import Path
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
from ftcourse.core import model_path, load_bundled, seed_everything
from ftcourse.pretrain import perplexity, llama_param_count, SPECIAL_TOKENS

TINY = Path(model_path("tinylm"))


@pytest.fixture(scope="module")
def tiny():
    return AutoModelForCausalLM.from_pretrained(TINY).eval(), AutoTokenizer.from_pretrained(TINY)


def test_files_and_report():
    for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training_report.json"]:
        assert (TINY / f).exists(), f"{f} missing from {TINY}"
    rep = json.loads((TINY / "training_report.json").read_text())
    assert {"seed", "steps", "tokens", "perplexity", "loss_curve", "parameters"} <= set(rep)
    assert rep["perplexity"]["random_test"] / rep["perplexity"]["test"] >= 10
    assert (TINY / "model.safetensors").stat().st_size < 16e6     # a few MB


def test_config_and_parameter_formula(tiny):
    model, tok = tiny
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tok)
    assert sum(p.numel() for p in model.parameters()) == llama_param_count(model.config)
    assert tok.eos_token == SPECIAL_TOKENS["eos_token"] and tok.pad_token == SPECIAL_TOKENS["pad_token"]


def test_genuinely_trained(tiny):
    "Held-out (test split) perplexity at least 10x lower than a random model of the same shape."
    model, tok = tiny
    test = load_bundled("wordnet_lm")["test"]["text"][:400]
    seed_everything(0)
    rand = LlamaForCausalLM(model.config).eval()
    trained, random_ = perplexity(model, tok, test), perplexity(rand, tok, test)
    assert random_ / trained >= 10, f"trained {trained:.1f} vs random {random_:.1f}"


def test_generation_and_chat_template(tiny):
    model, tok = tiny
    text = tok.apply_chat_template([{"role": "user", "content": "Define the word \"dog\" (noun)."}], tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|user|>\n") and text.endswith("<|assistant|>\n")
    x = tok("dog (noun):", return_tensors="pt")
    with torch.no_grad(): out = model.generate(**x, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > x["input_ids"].shape[1]
    assert tok.decode(out[0], skip_special_tokens=True).startswith("dog (noun):")
