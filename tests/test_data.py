"""ftcourse.data beyond the lesson's asserts: every file format from disk, malformed rows named by file and
line, strict validation, leak-free splits, masking, and packed loss == padded loss on the bundled tiny LM."""
import json, random, time
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset, DatasetDict
from ftcourse.core import model_path
from ftcourse.data import (load_data, read_rows, DataFormatError, validate, ValidationReport, DataValidationError,
                           split_dataset, tokenize_prompt_completion, tokenize_messages, tokenize_dataset, pad_collate,
                           pack_collate, packed_attention_mask, class_weights, focal_loss, near_duplicates, shingles,
                           jaccard, data_format, find_pii, augment_text, to_messages, next_token_loss, class_names,
                           encode_labels, tokenize_classification)

ROWS = [{"prompt": f"Define the word number {i}.", "completion": f"the integer after {i - 1}"} for i in range(30)]


@pytest.fixture(scope="module")
def tok():
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(model_path("tinylm"))


@pytest.fixture(scope="module")
def lm():
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(model_path("tinylm")).eval()


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# --- loading ---------------------------------------------------------------------------------------

def test_load_every_format(tmp_path):
    ds = Dataset.from_list(ROWS)
    write_jsonl(tmp_path / "a.jsonl", ROWS)
    ds.to_csv(tmp_path / "a.csv", index=False)
    ds.to_parquet(tmp_path / "a.parquet")
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    for name in ["a.jsonl", "a.csv", "a.parquet", "a.json"]:
        got = load_data(tmp_path / name)
        assert isinstance(got, Dataset) and list(got["completion"]) == [r["completion"] for r in ROWS], name
        assert data_format(got) == "prompt_completion"
    (tmp_path / "a.txt").write_text("first line\nsecond line\n")
    assert list(load_data(tmp_path / "a.txt")["text"]) == ["first line", "second line"]
    write_jsonl(tmp_path / "chat.jsonl", [{"messages": to_messages("hi", "hello")}])
    chat = load_data(str(tmp_path / "chat.jsonl"))
    assert data_format(chat) == "messages" and chat[0]["messages"][1] == {"role": "assistant", "content": "hello"}


def test_load_folder_of_splits_and_bundled(tmp_path):
    d = tmp_path / "set"; d.mkdir()
    write_jsonl(d / "train.jsonl", ROWS[:20]); write_jsonl(d / "validation.jsonl", ROWS[20:25]); write_jsonl(d / "test.jsonl", ROWS[25:])
    dd = load_data(d)
    assert isinstance(dd, DatasetDict) and list(dd) == ["train", "validation", "test"] and dd["test"].num_rows == 5
    assert load_data(d, split="validation").num_rows == 5
    with pytest.raises(ValueError, match="no split 'dev'"): load_data(d, split="dev")
    assert load_data("wordnet_topics", split="validation").num_rows == 480
    assert set(load_data("wordnet_lm")) == {"train", "validation", "test"}


def test_load_errors_fail_fast(tmp_path):
    with pytest.raises(FileNotFoundError): load_data(tmp_path / "missing.jsonl")
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(ValueError, match="unknown file type"): load_data(tmp_path / "x.xml")
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="offline"): load_data("nobody/no-such-dataset")
    assert time.perf_counter() - t < 10


def test_malformed_jsonl_reported_with_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": \n\n[1, 2]\n'
                  b'{"prompt": "e", "completion": "f"}\n{"prompt": 7, "completion": "g"}\n\xff\xfe\n')
    rows, problems = read_rows(p)
    assert [line for line, _ in rows] == [1, 5]
    assert [line for _, line, _ in problems] == [2, 4, 6, 7]
    with pytest.raises(DataFormatError) as e: load_data(p)
    msg = str(e.value)
    for line in (2, 4, 6, 7): assert f"{p}:{line}:" in msg
    assert "not valid JSON" in msg and "expected a JSON object" in msg and "is number, it must be text" in msg and "not UTF-8" in msg


# --- validation ------------------------------------------------------------------------------------

def test_validate_path_reports_lines_and_strict_raises(tmp_path, tok):
    d = tmp_path / "d"; d.mkdir()
    lines = [json.dumps(r) for r in ROWS[:5]] + ['{"prompt": "x"', json.dumps({"prompt": "y", "completion": "  "}),
             json.dumps(ROWS[0]), json.dumps({"prompt": "contact", "completion": "mail bob@example.com now"}),
             json.dumps({"prompt": "long", "completion": "word " * 400})]
    (d / "train.jsonl").write_text("\n".join(lines) + "\n")
    write_jsonl(d / "test.jsonl", [ROWS[1], ROWS[29]])
    rep = validate(d, tokenizer=tok)
    assert isinstance(rep, ValidationReport) and not rep.ok
    got = {(i.check, i.split, i.line) for i in rep.issues}
    assert {("malformed", "train", 6), ("empty", "train", 7), ("duplicate", "train", 8), ("email", "train", 9),
            ("too_long", "train", 10), ("leakage", "test", 1)} <= got
    assert all(i.file and i.file.endswith(".jsonl") for i in rep.issues)
    d_ = rep.to_dict()
    json.dumps(d_)
    assert d_["counts"]["leakage"] == {"train": 0, "test": 1} and d_["ok"] is False
    assert "| malformed | error |" in rep._repr_markdown_()
    with pytest.raises(DataValidationError, match="malformed 1"): validate(d, strict=True)
    clean = validate(Dataset.from_list(ROWS), strict=True)       # a clean set passes strict mode
    assert clean.ok and clean.rows == {"train": 30}


def test_validate_messages_labels_and_groups():
    msgs = Dataset.from_list([{"messages": to_messages("q", "a")}, {"messages": [{"role": "user", "content": "only a question"}]},
                              {"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}])
    rep = validate(msgs)
    assert [(i.check, i.row) for i in rep.issues] == [("schema", 1), ("schema", 2)]
    dd = DatasetDict({"train": Dataset.from_dict({"text": [f"t{i} words here" for i in range(40)], "label": ["a"] * 36 + ["b"] * 4, "src": list(range(40))}),
                      "test": Dataset.from_dict({"text": ["fresh words", "other words"], "label": ["a", "c"], "src": [3, 99]})})
    rep = validate(dd, group_field="src", near_duplicate_threshold=None)
    t = rep.totals()
    assert t["imbalance"] == 1 and t["unseen_label"] == 1 and t["group_leakage"] == 1 and "near_duplicate" not in t
    assert rep.label_counts["train"] == {"a": 36, "b": 4}


def test_near_duplicates_match_brute_force():
    rng = random.Random(0)
    words = "oak elm ash fir tree leaf root bark seed nut wood branch green tall".split()
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(3, 12))) for _ in range(150)]
    texts += [t + "!" for t in texts[:20]] + [t.replace(" ", "  ") for t in texts[20:30]] + ["", "ab"]
    for threshold in (0.6, 0.8, 0.95):
        sets = [shingles(t) for t in texts]
        brute = sorted((i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))
                       if sets[i] and sets[j] and jaccard(sets[i], sets[j]) >= threshold)
        assert [(i, j) for i, j, _ in near_duplicates(texts, threshold)] == brute


def test_pii_patterns():
    assert find_pii("a@b.co and x.y+z@mail.example.org")["email"] == ["a@b.co", "x.y+z@mail.example.org"]
    assert find_pii("ring 555-123-4567")["phone"] == ["555-123-4567"]
    assert find_pii("pages 12-15, year 2006, ratio 3.5, 1914-1918") == {"email": [], "phone": []}


# --- splits ----------------------------------------------------------------------------------------

def test_grouped_split_has_no_overlap_and_is_seeded():
    rng = random.Random(1)
    ds = Dataset.from_dict({"x": list(range(500)), "g": [rng.randrange(60) for _ in range(500)], "y": [i % 3 for i in range(500)]})
    for kw in [{"group_by": "g"}, {"group_by": "g", "stratify_by": "y"}]:
        for seed in range(3):
            dd = split_dataset(ds, test_size=0.2, validation_size=0.1, seed=seed, **kw)
            sides = [set(dd[s]["g"]) for s in ("train", "validation", "test")]
            assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
            assert sorted(list(dd["train"]["x"]) + list(dd["validation"]["x"]) + list(dd["test"]["x"])) == list(range(500))
    a, b = split_dataset(ds, 0.2, group_by="g", seed=7), split_dataset(ds, 0.2, group_by="g", seed=7)
    assert list(a["test"]["x"]) == list(b["test"]["x"])
    assert list(split_dataset(ds, 0.2, group_by="g", seed=8)["test"]["x"]) != list(a["test"]["x"])
    strat = split_dataset(ds, 0.3, stratify_by="y", seed=0)
    assert abs(list(strat["test"]["y"]).count(0) - 50) <= 1
    with pytest.raises(ValueError, match="no column"): split_dataset(ds, group_by="nope")


# --- tokenization, collation, packing ---------------------------------------------------------------

def test_masking(tok):
    enc = tokenize_prompt_completion(tok, "Define dog:", " a canine", max_length=64)
    n = len(tok("Define dog:")["input_ids"])
    assert enc["labels"][:n] == [-100] * n and enc["labels"][n:] == enc["input_ids"][n:] and enc["labels"][-1] == tok.eos_token_id
    assert len(tokenize_prompt_completion(tok, "Define dog:", " a canine", max_length=3)["input_ids"]) == 3
    conv = to_messages("Define dog.", "a canine", system="Be brief.")
    enc = tokenize_messages(tok, conv)
    assert tok.decode([i for i, l in zip(enc["input_ids"], enc["labels"]) if l != -100]) == "a canine<|eos|>\n"
    ds = tokenize_dataset(Dataset.from_dict({"text": ["one two three"]}), tok)
    assert ds[0]["labels"] == ds[0]["input_ids"] and ds[0]["input_ids"][-1] == tok.eos_token_id


def test_pad_collate_matches_transformers(tok):
    from transformers import DataCollatorForSeq2Seq
    ds = tokenize_dataset(Dataset.from_list(ROWS[:7]), tok)
    feats = [ds[i] for i in range(7)]
    ours = pad_collate(feats, tok.pad_token_id, pad_to_multiple_of=8)
    theirs = DataCollatorForSeq2Seq(tok, padding=True, pad_to_multiple_of=8, label_pad_token_id=-100, return_tensors="pt")(feats)
    for k in ours: assert torch.equal(ours[k], theirs[k]), k
    left = pad_collate(feats, tok.pad_token_id, padding_side="left")
    assert (left["attention_mask"][:, -1] == 1).all()


def _loss_sum(lm, batch, **kw):
    with torch.no_grad():
        logits = lm(**{k: v for k, v in batch.items() if k != "labels"}, **kw).logits
    return next_token_loss(logits, batch["labels"], reduction="sum").item(), (batch["labels"][:, 1:] != -100).sum().item()


def test_next_token_loss_equals_the_models_own(tok, lm):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(10, len(tok), (3, 17), generator=g)
    labels = ids.clone(); labels[0, :5] = -100; labels[2, 11:] = -100
    out = lm(input_ids=ids, labels=labels)
    assert torch.allclose(next_token_loss(out.logits, labels), out.loss, atol=1e-6)
    per = next_token_loss(out.logits, labels, reduction="none")
    assert per.shape == (3, 16) and (per[labels[:, 1:] == -100] == 0).all()
    assert torch.allclose(next_token_loss(out.logits, labels, reduction="sum"), per.sum())
    with pytest.raises(ValueError, match="reduction"): next_token_loss(out.logits, labels, reduction="avg")
    with pytest.raises(ValueError, match=r"expected logits \(batch, seq, vocab\)"): next_token_loss(out.logits[0], labels)


def test_packing_equals_padding_loss(tok, lm):
    from ftcourse.data import load_data
    pairs = load_data("wordnet_instruct", split="validation").select(range(24))
    ds = tokenize_dataset(pairs, tok, max_length=128)
    feats = [ds[i] for i in range(24)]
    s_pad, n_pad = _loss_sum(lm, pad_collate(feats, tok.pad_token_id))
    packed = pack_collate(feats, max_length=200, pad_token_id=tok.pad_token_id)
    assert packed["input_ids"].shape[1] <= 200 and "attention_mask" not in packed
    s_pack, n_pack = _loss_sum(lm, packed, use_cache=False)
    assert n_pack == n_pad and abs(s_pack - s_pad) / n_pad < 1e-5
    masked = dict(packed, attention_mask=packed_attention_mask(packed["position_ids"]))
    s_mask, _ = _loss_sum(lm, masked)
    assert abs(s_mask - s_pad) / n_pad < 1e-5
    s_naive, _ = _loss_sum(lm, {"input_ids": packed["input_ids"], "labels": packed["labels"]}, use_cache=False)
    assert abs(s_naive - s_pad) / n_pad > 1e-4          # without boundaries the loss is different
    with pytest.raises(ValueError, match="max_length"): pack_collate(feats, max_length=5)


# --- imbalance and augmentation ---------------------------------------------------------------------

def test_class_weights_and_focal_loss():
    from sklearn.utils.class_weight import compute_class_weight
    import numpy as np
    y = [2] * 50 + [0] * 7 + [1] * 3
    w = class_weights(y, classes=[0, 1, 2])
    assert np.allclose(w.numpy(), compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=np.array(y)))
    assert torch.allclose(class_weights(y, [0, 1, 2], scheme="sqrt"), w.sqrt())
    with pytest.raises(ValueError, match="no examples"): class_weights(y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="not in classes"): class_weights(y, classes=[0, 1])
    logits, t = torch.randn(60, 3), torch.tensor(y)
    assert torch.allclose(focal_loss(logits, t, gamma=0, weight=w), F.cross_entropy(logits, t, weight=w), atol=1e-6)


def test_augment_text_is_seeded_and_keeps_words():
    a = augment_text("the quick brown fox jumps", p_delete=0.3, n_swaps=2, rng=random.Random(3))
    assert a == augment_text("the quick brown fox jumps", p_delete=0.3, n_swaps=2, rng=random.Random(3))
    assert set(a.split()) <= set("the quick brown fox jumps".split()) and a
    assert augment_text("single", rng=random.Random(0)) == "single"


# --- classification labels --------------------------------------------------------------------------

def test_classification_labels_one_owner():
    from datasets import ClassLabel, Features, Value
    from transformers import AutoTokenizer
    ds = DatasetDict({"train": Dataset.from_dict({"text": ["a", "b", "c", "d"], "label": ["plant", "animal", "plant", "food"]}),
                      "test": Dataset.from_dict({"text": ["e", "f"], "label": ["food", "animal"]})})
    names = class_names(ds)
    assert names == ["animal", "food", "plant"] and class_names(ds["test"]) == ["animal", "food"]
    enc = encode_labels(ds)
    assert enc["train"]["labels"] == [2, 0, 2, 1] and enc["test"]["labels"] == [1, 0]
    assert ds["train"].column_names == ["text", "label"]                   # the input is left as it was
    unseen = DatasetDict({"train": ds["train"], "test": Dataset.from_dict({"text": ["e", "f"], "label": ["food", "fish"]})})
    with pytest.raises(ValueError, match=r"split 'test', row 1: label 'fish' is not one of the 3 classes"): encode_labels(unseen)
    with pytest.raises(ValueError, match="no label column 'y'"): class_names(ds, "y")
    with pytest.raises(ValueError, match="missing labels"): class_names(Dataset.from_dict({"label": ["a", None]}))
    hub = Dataset.from_dict({"text": ["x", "y"], "label": [1, 0]}, features=Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])}))
    assert class_names(hub) == ["neg", "pos"] and encode_labels(hub)["labels"] == [1, 0]
    tok = AutoTokenizer.from_pretrained(model_path("minilm"))
    t = tokenize_classification(ds, tok, max_length=8)
    assert t["train"].column_names == ["labels", "input_ids", "token_type_ids", "attention_mask"] and t["test"]["labels"] == [1, 0]
    with pytest.raises(ValueError, match="no text column 'body'"): tokenize_classification(ds, tok, text_column="body")
