"""An engineer's first fine-tune, run by scripts/wheel_test.py inside a fresh virtualenv that holds only
the pinned CPU torch and the ftcourse wheel (nothing from the repository is importable there).

Public API only, bundled assets only, offline: no hand-made label column, no private name.
LoRA on MiniLM for a few steps through `ftcourse.train.train`, then the adapter saved in PEFT's format,
loaded back by PEFT itself and by `ftcourse.lora.load_adapter`, both giving the trained model's logits.
"""
import os
import sys
import tempfile
from pathlib import Path

import torch
from transformers import DataCollatorWithPadding

import ftcourse
from ftcourse.core import load_bundled, seed_everything
from ftcourse.data import class_names, tokenize_classification
from ftcourse.lora import inject_lora, load_adapter, save_adapter
from ftcourse.train import TrainConfig, classifier_logits, load_classifier, train

assert os.environ.get("HF_HUB_OFFLINE") == "1", "run offline: the bundled assets must be enough"
site = Path(ftcourse.__file__).resolve()
assert "site-packages" in site.parts, f"ftcourse must come from the installed wheel, not {site}"

seed_everything(0)
data = load_bundled("wordnet_topics")
names = class_names(data["train"])
model, tok = load_classifier("minilm", names, "cpu")
inject_lora(model, targets=("query", "value"), r=8, alpha=16, trainable=("classifier", "pooler"))
train_ds = tokenize_classification(data["train"].shuffle(seed=0).select(range(128)), tok, names, max_length=64)
val_ds = tokenize_classification(data["test"].select(range(64)), tok, names, max_length=64)
assert set(train_ds.column_names) >= {"input_ids", "attention_mask", "labels"}, train_ds.column_names

cfg = TrainConfig(max_steps=16, batch_size=16, lr=2e-3, warmup=2, eval_every=16, progress=False, seed=0)
res = train(model, train_ds, cfg, val_data=val_ds, collate_fn=DataCollatorWithPadding(tok))
losses = [h["loss"] for h in res["history"] if "loss" in h]
first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
print(f"LoRA fine-tune: {len(losses)} steps, training loss {first:.3f} -> {last:.3f}")
assert last < first, f"the training loss did not go down: {first:.3f} -> {last:.3f}"

texts = data["test"]["text"][:32]
model.eval()
want = classifier_logits(model, tok, texts)
with tempfile.TemporaryDirectory() as d:
    save_adapter(model, d, base_model="minilm")
    print("adapter files:", sorted(p.name for p in Path(d).iterdir()))
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(load_classifier("minilm", names, "cpu")[0], d).eval()
    got_peft = classifier_logits(peft_model, tok, texts)
    got_ours = classifier_logits(load_adapter(load_classifier("minilm", names, "cpu")[0], d).eval(), tok, texts)
d_peft, d_ours = (got_peft - want).abs().max().item(), (got_ours - want).abs().max().item()
print(f"reloaded adapter, max |logit difference|: PEFT {d_peft:.1e}, ftcourse {d_ours:.1e}")
assert d_peft < 1e-4 and d_ours < 1e-4
print(f"ok: torch {torch.__version__}, ftcourse {ftcourse.__version__} from {site.parent}")
sys.exit(0)
