"""Bad input, clear errors, nothing lost: malformed data files, each with the message it must produce and
the rows that must survive; no temporary folder left behind; bad model names; bad demo arguments."""
import os, tempfile
from pathlib import Path
import pytest
from ftcourse.core import model_path
from ftcourse.data import load_data, read_rows, validate, DataFormatError

BOM = b"\xef\xbb\xbf"
# name -> (file name, bytes, [(line, words the problem must contain)], lines of the rows that must be kept)
MALFORMED = {
    "numbers where text belongs, in most rows": ("a.jsonl", b'{"text": 1}\n{"text": 2}\n{"text": "ok"}\n',
                                                 [(1, "'text' is number, it must be text"), (2, "'text' is number")], [3]),
    "capital suffix": ("a.JSONL", b'{"text": "a"}\n{"text": "b"\n', [(2, "not valid JSON")], [1]),
    "JSON Lines in a .json file": ("a.json", b'{"text": "a"}\n{"text": "b"}\n{"text": \n', [(3, "not valid JSON")], [1, 2]),
    "a broken JSON array": ("a.json", b'[{"text": "a"},\n {"text": "b",}]', [(2, "not valid JSON")], []),
    "a JSON array with its lines": ("a.json", b'[\n {"text": "a"},\n {"text": 5}\n]', [(3, "'text' is number")], [2]),
    "a byte-order mark": ("a.jsonl", BOM + b'{"text": "a"}\n{"text": "b"}\n', [], [1, 2]),
    "a lone surrogate": ("a.jsonl", b'{"text": "a"}\n{"text": "x\\ud800y"}\n', [(2, "lone surrogate")], [1]),
    "an empty file": ("a.jsonl", b"", [(None, "holds no rows")], []),
    "a blank file": ("a.jsonl", b"\n   \n\n", [(None, "holds no rows")], []),
    "invalid UTF-8": ("a.jsonl", b'{"text": "a"}\n{"text": "\xff"}\n', [(2, "not UTF-8")], [1]),
    "a field with two types": ("a.jsonl", b'{"text": "a", "source": "x"}\n{"text": "b", "source": 3}\n{"text": "c", "source": "y"}\n',
                               [(2, "'source' is number here")], [1, 3]),
    "an array where an object belongs": ("a.jsonl", b'{"text": "a"}\n["b"]\n', [(2, "expected a JSON object, got array")], [1]),
    "CSV with an extra field": ("a.csv", b"text,label\nhello,a\nworld,b,extra\nbye,c\n", [(3, "3 field(s), the header has 2")], [2, 4]),
    "CSV with a missing field": ("a.csv", b"text,label\nhello,a\nmissing\n", [(3, "1 field(s), the header has 2")], [2]),
    "CSV with invalid UTF-8": ("a.csv", b"text,label\nhello,a\n\xff,b\n", [(3, "not UTF-8")], [2]),
    "an empty CSV": ("a.csv", b"", [(None, "the file is empty")], []),
    "CSV with a repeated column": ("a.csv", b"text,text\na,b\n", [(1, "name every column once")], []),
    "CSV lines after a quoted line break": ("a.csv", b'text,label\n"two\nlines",a\nx,y,z\n', [(4, "3 field(s)")], [2]),
    "text with invalid UTF-8": ("a.txt", b"one\n\xff\nthree\n", [(2, "not UTF-8")], [1, 3]),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files_name_file_and_line_and_keep_every_valid_row(case, tmp_path):
    name, data, expected, kept = MALFORMED[case]
    path = tmp_path / name
    path.write_bytes(data)
    rows, problems = read_rows(path)
    assert [line for line, _ in rows] == kept, "every valid row is kept, in order"
    assert len(problems) == len(expected), problems
    for (file, line, message), (want_line, words) in zip(problems, expected):
        assert file == str(path) and line == want_line and words in message, (line, message)
    if expected:
        with pytest.raises(DataFormatError) as e: load_data(path)
        assert all(f"{path}{'' if l is None else f':{l}'}" in str(e.value) for l, _ in expected)
    else:
        assert len(load_data(path)) == len(kept)


def test_validate_keeps_good_rows_and_leaves_no_temporary_folder(tmp_path, monkeypatch):
    (tmp_path / "train.jsonl").write_bytes(b'{"text": "a", "label": "x"}\n{"text": 3, "label": "y"}\n{"text": "c", "label": "y"}\n')
    private = tmp_path / "tmp"; private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))   # a temporary folder of its own: nothing else writes there
    before = set(os.listdir(tempfile.gettempdir()))
    rep = validate(tmp_path)
    assert [(i.check, i.line) for i in rep.issues if i.check == "malformed"] == [("malformed", 2)] and rep.rows == {"train": 2}
    (tmp_path / "train.jsonl").write_bytes(b"\xff\n")
    rep = validate(tmp_path)                                    # every row malformed: a report, not a crash
    assert [i.check for i in rep.issues] == ["malformed"] and not rep.ok
    (tmp_path / "train.jsonl").unlink(); (tmp_path / "train.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataFormatError, match="train.parquet: not a readable Parquet file"): validate(tmp_path)
    assert set(os.listdir(tempfile.gettempdir())) - before == set(), "validate left files behind"


def test_a_huge_line_is_too_long_even_without_a_tokenizer(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "short"}\n' + '{"text": "' + "x" * 300_000 + '"}\n')
    rep = validate(tmp_path)
    assert [(i.check, i.line) for i in rep.issues] == [("too_long", 2)] and "300,000 characters" in rep.issues[0].message


@pytest.mark.parametrize("name", ["no-such-model", "zz/..", "org/", "", "a/b/c", "./missing"])
def test_model_names_get_the_package_message(name):
    with pytest.raises(ValueError, match="bundled name"): model_path(name)


def test_bundled_names_tolerate_a_trailing_slash():
    assert model_path("minilm/") == model_path("minilm") and Path(model_path("tinylm/")).is_dir()
