"""Checks on the WordNet data sets shipped in ftcourse/assets/data (built by scripts/build_data.py).

Standard library + pytest only; no WordNet needed: these run on the shipped files.
"""

import collections
import hashlib
import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "ftcourse" / "assets" / "data"
SPLITS = ("train", "validation", "test")
EVAL_SPLITS = ("validation", "test")
POS_NAMES = {"noun", "verb", "adjective", "adverb"}
SYNSET_RE = re.compile(r"^[nvar]\.\d{8}$")
LM_LINE_RE = re.compile(r"^(?P<lemmas>[^()\n]+?) \((?P<pos>noun|verb|adjective|adverb)\): "
                        r"(?P<rest>.+)$")


def read_jsonl(name, split):
    path = DATA / name / f"{split}.jsonl"
    rows = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            assert line.endswith("\n"), f"{path}:{i} has no final newline"
            rows.append(json.loads(line))
    return rows


def read_lm(split):
    text = (DATA / "wordnet_lm" / f"{split}.txt").read_text(encoding="utf-8")
    return text, text.splitlines()


def lm_definition(line):
    m = LM_LINE_RE.match(line)
    assert m, f"unparsable LM line: {line[:100]!r}"
    return m["rest"].split('; "', 1)[0]


@pytest.fixture(scope="module")
def topics():
    return {s: read_jsonl("wordnet_topics", s) for s in SPLITS}


@pytest.fixture(scope="module")
def instruct():
    return {s: read_jsonl("wordnet_instruct", s) for s in SPLITS}


@pytest.fixture(scope="module")
def lm():
    return {s: read_lm(s) for s in SPLITS}


def test_files_present():
    for name in ("wordnet_topics", "wordnet_instruct"):
        for s in SPLITS:
            assert (DATA / name / f"{s}.jsonl").is_file()
    for s in SPLITS:
        assert (DATA / "wordnet_lm" / f"{s}.txt").is_file()
    assert (DATA / "README.md").is_file()
    lic = (DATA / "LICENSE-WordNet.txt").read_text(encoding="utf-8")
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in lic
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 6.5e6, f"assets/data is {total} bytes"


def test_topics_fields_and_balance(topics):
    for s, rows in topics.items():
        assert rows, s
        for r in rows:
            assert set(r) == {"text", "label", "lemma", "synset"}
            assert all(isinstance(v, str) and v.strip() for v in r.values()), r
            assert r["label"].startswith("noun.")
            assert SYNSET_RE.match(r["synset"]) and r["synset"].startswith("n."), r
        # shuffled, not grouped by label
        labels = [r["label"] for r in rows]
        assert labels != sorted(labels)
    counts = collections.Counter(r["label"] for rows in topics.values() for r in rows)
    assert len(counts) >= 5
    assert sum(counts.values()) >= 3000
    assert max(counts.values()) <= 1.5 * min(counts.values()), counts
    for s, rows in topics.items():
        per = collections.Counter(r["label"] for r in rows)
        assert set(per) == set(counts), s
        assert max(per.values()) <= 1.5 * min(per.values()), (s, per)


def test_instruct_fields(instruct):
    total = sum(len(rows) for rows in instruct.values())
    assert 8000 <= total <= 15000, total
    for s, rows in instruct.items():
        assert rows, s
        tasks = collections.Counter(r["task"] for r in rows)
        assert set(tasks) == {"define", "use_in_sentence", "synonyms"}, (s, tasks)
        pos = set()
        for r in rows:
            assert set(r) == {"prompt", "completion", "task", "lemma", "synset"}
            assert all(isinstance(v, str) and v.strip() for v in r.values()), r
            assert SYNSET_RE.match(r["synset"]), r
            assert f'"{r["lemma"]}"' in r["prompt"], r
            assert len(r["completion"]) <= 400, r
            pos.add(r["synset"][0])
        assert pos == set("nvar"), (s, pos)


def test_lm_corpus(lm):
    sizes = {s: len(text.encode("utf-8")) for s, (text, _) in lm.items()}
    assert 1.5e6 <= sizes["train"] <= 4.5e6, sizes
    for s in EVAL_SPLITS:
        assert 50e3 <= sizes[s] <= 300e3, sizes
    for s, (text, lines) in lm.items():
        assert text.endswith("\n") and all(l.strip() for l in lines), s
        assert len(set(lines)) == len(lines), f"duplicate lines in {s}"
        for line in lines:
            assert lm_definition(line).strip()


def test_no_synset_in_two_splits(topics, instruct):
    for name, data in (("topics", topics), ("instruct", instruct)):
        ids = {s: {r["synset"] for r in data[s]} for s in SPLITS}
        for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
            assert not ids[a] & ids[b], f"{name}: synsets in both {a} and {b}"


def test_no_eval_synset_in_any_train(topics, instruct):
    train_ids = {r["synset"] for d in (topics, instruct) for r in d["train"]}
    for d in (topics, instruct):
        for s in EVAL_SPLITS:
            leaked = {r["synset"] for r in d[s]} & train_ids
            assert not leaked, f"{s} synsets in a train split: {sorted(leaked)[:5]}"


def test_no_eval_definition_in_any_train(topics, instruct, lm):
    """Eval definitions never occur as a definition of any train split (all three sets)."""
    train_text, train_lines = lm["train"]
    train_defs = {lm_definition(l) for l in train_lines}
    train_defs |= {r["text"] for r in topics["train"]}
    train_defs |= {r["completion"] for r in instruct["train"] if r["task"] == "define"}
    for s in EVAL_SPLITS:
        eval_defs = {r["text"] for r in topics[s]}
        eval_defs |= {r["completion"] for r in instruct[s] if r["task"] == "define"}
        eval_defs |= {lm_definition(l) for l in lm[s][1]}
        assert not eval_defs & train_defs, sorted(eval_defs & train_defs)[:5]
        # the LM corpus: no eval definition occurs anywhere in train.txt, even as a substring
        inside = [d for d in (lm_definition(l) for l in lm[s][1]) if d in train_text]
        assert not inside, f"{s} definitions inside wordnet_lm/train.txt: {inside[:5]}"


def test_card_checksums():
    card = (DATA / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$", card, re.MULTILINE)
    listed = {path for path, _, _ in rows}
    shipped = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
               if p.is_file() and p.name != "README.md"}
    assert listed == shipped, (listed ^ shipped)
    for path, size, digest in rows:
        data = (DATA / path).read_bytes()
        assert len(data) == int(size), path
        assert hashlib.sha256(data).hexdigest() == digest, f"sha256 of {path} does not match"
    assert "LICENSE-WordNet.txt" in card and "WordNet 3.0" in card
