"""Build the course's offline data sets from WordNet 3.0 (Debian package `wordnet-base`).

WordNet is a lexical database of English from Princeton University. Every synset (a set of
synonymous lemmas) has a gloss -- a definition, often followed by example sentences -- and
belongs to one of 45 lexicographer files ("noun.animal", "verb.motion", ...). This script reads
the four `data.*` files and the `index.*` files itself (no NLTK) and writes three small data sets
into `ftcourse/assets/data`:

* `wordnet_topics/`   text classification: a noun definition -> its lexicographer category
* `wordnet_instruct/` prompt/completion pairs from a few templated tasks
* `wordnet_lm/`       a plain-text corpus, one synset per line, for language modelling

plus `README.md` (the data card, with counts and sha256 sums) and `LICENSE-WordNet.txt`.

Splits are made once, per synset: `split_of(synset_id)` hashes the id (sha256) into
train/validation/test (80/10/10). All three data sets use that one assignment, so no synset in a
validation or test split appears in any train split of any data set. Eval candidates whose
definition text also belongs to a train synset (WordNet has a few duplicate glosses) are dropped.

The output is deterministic: run it twice and the files are byte-identical.

    apt-get install wordnet-base
    .venv/bin/python scripts/build_data.py                      # -> ftcourse/assets/data
    .venv/bin/python scripts/build_data.py --out /tmp/data      # elsewhere

Exit status: 0 built, 2 WordNet not found or malformed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import random
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20061  # fixed seed for every sample drawn below
SPLITS = ("train", "validation", "test")
SPLIT_SALT = "ftcourse-wordnet-v1"

# Data file suffix -> (one-letter part of speech used in synset ids, human-readable name).
POS_FILES = {"noun": ("n", "noun"), "verb": ("v", "verb"), "adj": ("a", "adjective"),
             "adv": ("r", "adverb")}

# The 45 lexicographer files, indexed by `lex_filenum`, as documented in lexnames(5WN). Used
# when the installation has no `lexnames` file (Debian's wordnet-base does not ship one).
LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
]

# --- classification set -------------------------------------------------------------------
TOPIC_LABELS = ["noun.animal", "noun.artifact", "noun.body", "noun.food", "noun.location",
                "noun.person", "noun.plant", "noun.substance"]
TOPIC_PER_SPLIT = {"train": 480, "validation": 60, "test": 60}  # per label: 600 in all
TOPIC_MIN_WORDS = 3

# --- instruction set: how many pairs of each task to draw (before the split) ------------------
INSTRUCT_QUOTA = {"define": 5000, "use_in_sentence": 3000, "synonyms": 3000}
INSTRUCT_MAX_DEF_CHARS = 160

# --- language-modelling corpus: target sizes in bytes ---------------------------------------
LM_TARGET_BYTES = {"train": 2_500_000, "validation": 150_000, "test": 150_000}
LM_MAX_LEMMAS = 4

_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")  # syntactic markers on adjective lemmas
_EXAMPLE_START = re.compile(r'(?:^|;\s*|:\s*)"')


@dataclass
class Synset:
    id: str              # "<pos>.<offset>", e.g. "n.02084071"
    pos: str             # "n", "v", "a" (satellites included) or "r"
    lexname: str         # e.g. "noun.animal"
    lemmas: list[str]    # underscores turned into spaces, adjective markers removed
    definition: str
    examples: list[str] = field(default_factory=list)

    @property
    def offset(self) -> str:
        return self.id.split(".", 1)[1]


class WordNetError(Exception):
    pass


# ------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------
def load_lexnames(wn_dir: Path) -> list[str]:
    """Lexicographer file names by number, from `lexnames` if present, else the documented list."""
    path = wn_dir / "lexnames"
    if not path.exists():
        return list(LEXNAMES)
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            table[int(parts[0])] = parts[1]
    return [table[i] for i in range(max(table) + 1)]


def split_gloss(gloss: str) -> tuple[str, list[str]]:
    """Split a gloss into its definition and its quoted example sentences.

    Examples follow the definition as `"..."` segments separated by `; ` (a few glosses use
    `: "` instead). Text after an example's closing quote (an attribution such as
    `- Henry Miller`) is dropped. A quote elsewhere in the definition is left alone.
    """
    m = _EXAMPLE_START.search(gloss)
    if m is None:
        definition, rest = gloss, ""
    else:
        definition, rest = gloss[:m.start()], gloss[m.start():]
    definition = definition.strip().rstrip(";").strip()
    examples = [e.strip() for e in re.findall(r'"([^"]+)"', rest) if e.strip()]
    return definition, examples


def parse_data_line(line: str, pos: str, lexnames: list[str]) -> Synset:
    """Parse one synset line of a `data.<pos>` file.

    synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt [ptr ...]
    [frames ...] | gloss      (w_cnt is two hex digits, p_cnt three decimal digits)
    """
    left, sep, gloss = line.partition(" | ")
    if not sep:
        left, gloss = line.rstrip(" |"), ""
    f = left.split()
    offset, lex_filenum, w_cnt = f[0], int(f[1]), int(f[3], 16)
    words = f[4:4 + 2 * w_cnt:2]
    p_cnt = int(f[4 + 2 * w_cnt])
    if len(f) < 5 + 2 * w_cnt + 4 * p_cnt or not words:
        raise WordNetError(f"malformed synset line: {line[:80]!r}")
    lemmas = []
    for w in words:
        w = _ADJ_MARKER.sub("", w).replace("_", " ")
        if w not in lemmas:
            lemmas.append(w)
    definition, examples = split_gloss(gloss.strip())
    return Synset(f"{pos}.{offset}", pos, lexnames[lex_filenum], lemmas, definition, examples)


def load_synsets(wn_dir: Path) -> list[Synset]:
    lexnames = load_lexnames(wn_dir)
    out = []
    for suffix, (pos, _) in POS_FILES.items():
        path = wn_dir / f"data.{suffix}"
        with path.open(encoding="latin-1") as fh:  # WordNet 3.0 is ASCII; latin-1 never fails
            for line in fh:
                if line.startswith(" "):  # the licence header
                    continue
                out.append(parse_data_line(line.rstrip("\n"), pos, lexnames))
    out.sort(key=lambda s: s.id)
    return out


def load_first_senses(wn_dir: Path) -> set[tuple[str, str]]:
    """(lemma in lower case, synset id) for each lemma's most frequent sense.

    An `index.<pos>` line lists a lemma's synsets ordered by frequency in the tagged corpora:
    lemma pos synset_cnt p_cnt [ptr_symbol ...] sense_cnt tagsense_cnt offset [offset ...]
    """
    first = set()
    for suffix, (pos, _) in POS_FILES.items():
        with (wn_dir / f"index.{suffix}").open(encoding="latin-1") as fh:
            for line in fh:
                if line.startswith(" "):
                    continue
                f = line.split()
                p_cnt = int(f[3])
                offset = f[4 + p_cnt + 2]
                first.add((f[0].replace("_", " ").lower(), f"{pos}.{offset}"))
    return first


# ------------------------------------------------------------------------------------------
# Splits
# ------------------------------------------------------------------------------------------
def split_of(synset_id: str) -> str:
    """train / validation / test (80/10/10) from a stable hash of the synset id."""
    h = int.from_bytes(hashlib.sha256(f"{SPLIT_SALT}:{synset_id}".encode()).digest()[:8], "big")
    b = h % 100
    return "train" if b < 80 else "validation" if b < 90 else "test"


def eval_ok(s: Synset, train_defs: set[str]) -> bool:
    """A validation/test synset is usable only if no train synset shares its definition."""
    return split_of(s.id) == "train" or s.definition.lower() not in train_defs


# ------------------------------------------------------------------------------------------
# The three data sets
# ------------------------------------------------------------------------------------------
def build_topics(synsets, train_defs) -> dict[str, list[dict]]:
    rng = random.Random(SEED)
    seen_text = set()
    pools = collections.defaultdict(list)  # (label, split) -> synsets
    for s in synsets:
        if s.pos != "n" or s.lexname not in TOPIC_LABELS:
            continue
        if len(s.definition.split()) < TOPIC_MIN_WORDS or not eval_ok(s, train_defs):
            continue
        key = s.definition.lower()
        if key in seen_text:  # identical definitions: keep the first synset only
            continue
        seen_text.add(key)
        pools[(s.lexname, split_of(s.id))].append(s)
    out = {}
    for split in SPLITS:
        rows = []
        for label in TOPIC_LABELS:
            pool = pools[(label, split)]
            n = TOPIC_PER_SPLIT[split]
            if len(pool) < n:
                raise WordNetError(f"only {len(pool)} {label} synsets for {split}")
            for s in rng.sample(pool, n):
                rows.append({"text": s.definition, "label": label, "lemma": s.lemmas[0],
                             "synset": s.id})
        rng.shuffle(rows)
        out[split] = rows
    return out


def _mentions(lemma: str, sentence: str) -> bool:
    """Does the sentence use the lemma (allowing a dropped final -e/-y: "bake" in "baking")?"""
    stem = lemma[:-1] if len(lemma) > 4 and lemma[-1] in "ey" else lemma
    return re.search(r"\b" + re.escape(stem), sentence, re.IGNORECASE) is not None


def build_instruct(synsets, train_defs, first_senses) -> dict[str, list[dict]]:
    pos_name = {p: name for p, name in POS_FILES.values()}
    cands = collections.defaultdict(list)
    for s in synsets:
        if not s.definition or not eval_ok(s, train_defs):
            continue
        name = pos_name[s.pos]
        # Define: the lemma must have this synset as its most frequent sense, so that the
        # question has one expected answer.
        if len(s.definition) <= INSTRUCT_MAX_DEF_CHARS:
            lemma = next((l for l in s.lemmas if (l.lower(), s.id) in first_senses), None)
            if lemma is not None:
                cands["define"].append((s, lemma, f'Define the word "{lemma}" ({name}).',
                                        s.definition))
        # Use in a sentence: a WordNet example sentence that contains the lemma.
        pair = next(((l, e) for l in s.lemmas for e in s.examples if _mentions(l, e)), None)
        if pair is not None:
            lemma, example = pair
            cands["use_in_sentence"].append(
                (s, lemma, f'Use the word "{lemma}" ({name}) in a sentence.', example))
        # Synonyms: the other lemmas of the synset.
        if len(s.lemmas) >= 2:
            lemma, others = s.lemmas[0], s.lemmas[1:]
            cands["synonyms"].append(
                (s, lemma, f'Give synonyms of the word "{lemma}" ({name}).', ", ".join(others)))
    rng = random.Random(SEED + 1)
    out = {split: [] for split in SPLITS}
    for task, quota in INSTRUCT_QUOTA.items():
        pool = cands[task]
        for s, lemma, prompt, completion in rng.sample(pool, min(quota, len(pool))):
            out[split_of(s.id)].append({"prompt": prompt, "completion": completion,
                                        "task": task, "lemma": lemma, "synset": s.id})
    for split in SPLITS:
        rng.shuffle(out[split])
    return out


def lm_line(s: Synset) -> str:
    name = {p: n for p, n in POS_FILES.values()}[s.pos]
    text = f"{', '.join(s.lemmas[:LM_MAX_LEMMAS])} ({name}): {s.definition}"
    for e in s.examples:
        text += f'; "{e}"'
    return text


def build_lm(synsets, train_defs) -> dict[str, list[str]]:
    """One line per synset; a seeded sample of each split's synsets up to a byte budget.

    Eval lines whose definition occurs anywhere in the train text (as a substring) are dropped,
    so that a model pretrained on train.txt has never seen a test definition.
    """
    rng = random.Random(SEED + 2)
    pools = collections.defaultdict(list)
    for s in synsets:
        # Lines must parse back: "lemmas (pos): definition; "example"..."
        if (not s.definition or '"' in s.definition or "\n" in s.definition
                or any("(" in l or ":" in l for l in s.lemmas)):
            continue
        if eval_ok(s, train_defs):
            pools[split_of(s.id)].append(s)
    out = {}
    for split in SPLITS:
        pool = pools[split][:]
        rng.shuffle(pool)
        lines, size = [], 0
        train_text = "\n".join(out["train"]) if split != "train" else ""
        for s in pool:
            if size >= LM_TARGET_BYTES[split]:
                break
            if split != "train" and s.definition in train_text:
                continue
            line = lm_line(s)
            lines.append(line)
            size += len(line.encode("utf-8")) + 1
        out[split] = lines
    return out


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(l + "\n" for l in lines))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def licence_text() -> str:
    """The WordNet 3.0 licence, from the Debian copyright file when available."""
    path = Path("/usr/share/doc/wordnet-base/copyright")
    if path.exists():
        lines, inside = [], False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("License: WordNet"):
                inside = True
                continue
            if inside:
                if not line.startswith(" "):
                    break
                body = line[1:]
                lines.append("" if body == "." else body)
        if lines:
            return "\n".join(lines).rstrip() + "\n"
    raise WordNetError(f"cannot read the WordNet licence from {path}")


def debian_version() -> str:
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "wordnet-base"],
                           capture_output=True, text=True, check=True)
        return r.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def human(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def write_card(out: Path, topics, instruct, lm, files: list[Path]) -> None:
    def table(header, rows):
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        return "\n".join(lines)

    topic_rows = [[lab] + [sum(r["label"] == lab for r in topics[s]) for s in SPLITS]
                  for lab in TOPIC_LABELS]
    topic_rows.append(["**total**"] + [len(topics[s]) for s in SPLITS])
    task_rows = [[t] + [sum(r["task"] == t for r in instruct[s]) for s in SPLITS]
                 for t in INSTRUCT_QUOTA]
    task_rows.append(["**total**"] + [len(instruct[s]) for s in SPLITS])
    lm_rows = [[s, len(lm[s]), human(len("".join(l + "\n" for l in lm[s]).encode()))]
               for s in SPLITS]
    file_rows = [[f"`{p.relative_to(out).as_posix()}`", p.stat().st_size, f"`{sha256(p)}`"]
                 for p in files]
    total = sum(p.stat().st_size for p in files)

    text = f"""# WordNet data sets for the course

Three small data sets built from **WordNet 3.0** (Princeton University), read from the files of
the Debian package `wordnet-base` version `{debian_version()}` (`/usr/share/wordnet/data.*` and
`index.*`). They ship in the package because the machines that test the course have no WordNet
and no network.

Rebuild (deterministic; re-running gives byte-identical files):

```
apt-get install wordnet-base
.venv/bin/python scripts/build_data.py --wordnet-dir /usr/share/wordnet --out ftcourse/assets/data
```

## Licence

WordNet is distributed under the WordNet 3.0 licence, a permissive licence that allows use,
copying, modification and distribution for any purpose provided its copyright notice,
statements and disclaimer are kept on all copies. The full text is in
[`LICENSE-WordNet.txt`](LICENSE-WordNet.txt), kept beside these derived files as the licence
asks.

> WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.

## Parsing

Each synset line of `data.<pos>` gives the synset's lemmas (underscores read as spaces,
adjective markers such as `(p)` removed), its lexicographer file (`lex_filenum`, one of 45
names such as `noun.animal`) and a gloss. The gloss is split into a **definition** (the text
before the first double quote that follows `; `, `: ` or starts the gloss) and **example
sentences** (the quoted segments after it; attributions such as `- Henry Miller` dropped).
`index.<pos>` gives, for each lemma, its synsets in order of frequency; the first is its most
frequent sense. Synset ids are `<pos>.<offset>` with pos `n`, `v`, `a` (adjectives,
satellites included) or `r` (adverbs), e.g. `n.02084071` (dog).

## Splits

Every synset is assigned once to train / validation / test (80 / 10 / 10) by a stable hash:
`sha256("{SPLIT_SALT}:<synset id>")`, first 8 bytes mod 100. All three data sets use this
same assignment, so **no synset of a validation or test split appears in the train split of any
data set** (the course's small LM is pretrained on `wordnet_lm/train.txt` and later evaluated on
the other sets' test splits). In addition, a validation/test synset is left out when a train
synset has the same definition text (WordNet repeats a few glosses), and a `wordnet_lm`
validation/test line is left out when its definition occurs anywhere in `wordnet_lm/train.txt`.

The split is by synset, not by word: a polysemous word can appear in train with one sense and in
test with another (e.g. "bank" the river side and "bank" the institution are two synsets). The
definition, example or synonym list asked for in a test row is never in a train split; the word
itself may be. Samples are drawn with Python's `random.Random` and fixed seeds.

## `wordnet_topics/` — text classification

`{{"text", "label", "lemma", "synset"}}`: a noun definition and its lexicographer category, for
{len(TOPIC_LABELS)} categories. Only definitions of at least {TOPIC_MIN_WORDS} words; identical
definitions kept once. Exactly balanced: per category {TOPIC_PER_SPLIT["train"]} train,
{TOPIC_PER_SPLIT["validation"]} validation and {TOPIC_PER_SPLIT["test"]} test rows, sampled from
the synsets the hash assigns to each split. Rows are shuffled.

{table(["label", "train", "validation", "test"], topic_rows)}

## `wordnet_instruct/` — instruction pairs

`{{"prompt", "completion", "task", "lemma", "synset"}}`, from nouns, verbs, adjectives and adverbs:

- `define`: `Define the word "X" (noun).` → the definition. Only where this synset is X's most
  frequent sense and the definition has at most {INSTRUCT_MAX_DEF_CHARS} characters.
- `use_in_sentence`: `Use the word "X" (verb) in a sentence.` → a WordNet example sentence of the
  synset that contains X (a dropped final -e/-y allowed), verbatim (lower case, no final stop).
- `synonyms`: `Give synonyms of the word "X" (adjective).` → the synset's other lemmas,
  comma-separated, in WordNet's order.

Up to {", ".join(f"{n} {t}" for t, n in INSTRUCT_QUOTA.items())} pairs were sampled, then each
fell into the split of its synset. Rows are shuffled.

{table(["task", "train", "validation", "test"], task_rows)}

## `wordnet_lm/` — language-modelling corpus

Plain text, one synset per line: `lemma, lemma (pos): definition; "example"; "example"` (at
most {LM_MAX_LEMMAS} lemmas). Synsets of all parts of speech, shuffled with a fixed seed and taken
until each split reaches its size budget ({", ".join(f"{s} {human(b)}" for s, b in LM_TARGET_BYTES.items())}).
Synsets whose definition contains a double quote or whose lemmas contain `(` or `:` are skipped,
so every line parses back.

{table(["split", "lines", "size"], lm_rows)}

## Files

Total {human(total)}.

{table(["file", "bytes", "sha256"], file_rows)}
"""
    (out / "README.md").write_text(text, encoding="utf-8", newline="\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet-dir", type=Path, default=Path("/usr/share/wordnet"),
                    help="folder holding data.noun, index.noun, ... (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=Path("ftcourse/assets/data"),
                    help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)

    wn = args.wordnet_dir
    needed = [f"{kind}.{suffix}" for kind in ("data", "index") for suffix in POS_FILES]
    missing = [n for n in needed if not (wn / n).is_file()]
    if missing:
        print(f"error: WordNet 3.0 not found in {wn} (missing {', '.join(missing)}).\n"
              "Install it with:  apt-get install wordnet-base   (or pass --wordnet-dir)",
              file=sys.stderr)
        return 2
    try:
        synsets = load_synsets(wn)
        first_senses = load_first_senses(wn)
        train_defs = {s.definition.lower() for s in synsets if split_of(s.id) == "train"}
        topics = build_topics(synsets, train_defs)
        instruct = build_instruct(synsets, train_defs, first_senses)
        lm = build_lm(synsets, train_defs)
        licence = licence_text()
    except WordNetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for split in SPLITS:
        for name, rows in (("wordnet_topics", topics), ("wordnet_instruct", instruct)):
            p = out / name / f"{split}.jsonl"
            write_jsonl(p, rows[split])
            files.append(p)
        p = out / "wordnet_lm" / f"{split}.txt"
        write_lines(p, lm[split])
        files.append(p)
    lic = out / "LICENSE-WordNet.txt"
    lic.write_text(licence, encoding="utf-8", newline="\n")
    files.append(lic)
    files.sort(key=lambda p: p.relative_to(out).as_posix())
    write_card(out, topics, instruct, lm, files)

    total = sum(p.stat().st_size for p in files) + (out / "README.md").stat().st_size
    print(f"read {len(synsets)} synsets; wrote {len(files) + 1} files, {human(total)} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
