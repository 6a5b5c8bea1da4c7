"""ftcourse.core: assets, loading by name, and bad input."""
import json
import pytest
from ftcourse.core import model_path, asset_path, read_jsonl, load_bundled, get_device, bootstrap_ci, BUNDLED_DATASETS


def test_model_path_names_dirs_and_hub_ids(tmp_path, monkeypatch):
    assert (model_path("minilm") and (__import__("pathlib").Path(model_path("minilm")) / "config.json").exists())
    with pytest.raises(ValueError, match="unknown model 'bert'.*bundled name"): model_path("bert")
    with pytest.raises(FileNotFoundError, match="no config.json"): model_path(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="not in the local cache and HF_HUB_OFFLINE=1"): model_path("someorg/some-model-xyz")


def test_unknown_asset_lists_what_exists():
    with pytest.raises(FileNotFoundError, match="no bundled asset 'data/nope'.*wordnet_topics"): asset_path("data", "nope")


def test_read_jsonl_reports_file_and_line(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"prompt": "a", "completion": "b"}\n\n{"prompt": "c"}\n')
    with pytest.raises(ValueError, match=r"rows.jsonl:3: missing key\(s\) \['completion'\]"): read_jsonl(p, required=("prompt", "completion"))
    p.write_text('{"prompt": "a"}\n[1, 2]\n')
    with pytest.raises(ValueError, match="rows.jsonl:2: expected a JSON object, got list"): read_jsonl(p)
    p.write_text('{"prompt": "a"}\n{"prompt": "b",}\n')
    with pytest.raises(ValueError, match="rows.jsonl:2: not valid JSON"): read_jsonl(p)
    with pytest.raises(FileNotFoundError, match="no such file"): read_jsonl(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("name", BUNDLED_DATASETS)
def test_bundled_datasets_load(name):
    d = load_bundled(name)
    assert set(d) == {"train", "validation", "test"} and all(len(d[s]) > 100 for s in d)
    with pytest.raises(ValueError, match="unknown bundled data set"): load_bundled("imdb")


def test_device_and_ci():
    assert get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="unknown device"): get_device("tpu9")
    est, lo, hi = bootstrap_ci([1, 0, 1, 1, 0, 1, 1, 1])
    assert lo <= est <= hi and est == 0.75
    with pytest.raises(ValueError, match="non-empty"): bootstrap_ci([])
