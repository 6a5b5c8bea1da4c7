"""The `ftcourse` console command, run as a user runs it: in a subprocess."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

# the console script that `pip install` puts beside the interpreter, as a user runs it
FTCOURSE = [str(Path(sys.executable).parent / "ftcourse")]


def run(*args, timeout=600):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([*FTCOURSE, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_demo_small_budget(tmp_path):
    "The main job end to end on a small training budget: report, adapter with model card, exports, the served check, plots."
    r = run("demo", "--out", str(tmp_path), "--epochs", "1", "--train-limit", "640")
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((tmp_path / "report.json").read_text())
    res = rep["results"]
    assert set(res) == {"majority class", "head only", "LoRA"}
    for name in res: assert res[name]["ci95"][0] <= res[name]["accuracy"] <= res[name]["ci95"][1]
    assert res["LoRA"]["accuracy"] > res["majority class"]["accuracy"] + 0.2   # it learned something real
    assert 0 < res["LoRA"]["trainable_params"] < 0.02 * 22_700_000
    assert rep["merge"]["max_abs_logit_diff_vs_trained"] < 1e-4
    assert rep["serving"]["agreement"] == 1.0 and rep["serving"]["requests"] == rep["data"]["test"] == 480
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists() and (tmp_path / "adapter" / "README.md").exists()
    assert (tmp_path / "model.int8.onnx").exists() and (tmp_path / "training.png").stat().st_size > 5000
    assert "| LoRA |" in (tmp_path / "report.md").read_text()


def test_env_command():
    r = run("env")
    assert r.returncode == 0 and "torch" in r.stdout and "device" in r.stdout


def test_bad_input_is_a_clear_error(tmp_path):
    r = run("demo", "--model", "no-such-model", "--out", str(tmp_path), "--train-limit", "32")
    assert r.returncode == 2 and "unknown model 'no-such-model'" in r.stderr and "Traceback" not in r.stderr
    r = run("check", str(tmp_path / "missing.ipynb"))
    assert r.returncode == 2 and "missing.ipynb" in r.stderr and "Traceback" not in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["--epochs", "0"], "epochs must be an integer >= 1"), (["--rank", "0"], "rank must be an integer >= 1"),
    (["--alpha", "nan"], "alpha must be a finite number > 0"), (["--lr", "-1"], "lr must be a finite number > 0"),
    (["--train-limit", "-5"], "train_limit must be an integer >= 1"), (["--train-limit", "0"], "train_limit must be an integer >= 1"),
])
def test_demo_arguments_are_checked_before_any_work(tmp_path, args, message):
    r = run("demo", "--out", str(tmp_path / "out"), *args, timeout=60)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()                      # nothing was started


def test_demo_output_that_is_a_file_is_refused_first(tmp_path):
    (tmp_path / "f").write_text("x")
    r = run("demo", "--out", str(tmp_path / "f"), timeout=60)
    assert r.returncode == 2 and "exists and is not a directory" in r.stderr


def test_every_demo_flag_says_what_it_does_and_its_default():
    r = run("demo", "--help", timeout=60)
    assert r.returncode == 0
    for flag in ("--config", "--out", "--epochs", "--rank", "--alpha", "--lr", "--model", "--device", "--train-limit", "--seed"):
        line = r.stdout[r.stdout.index(flag):].split("\n--")[0]
        assert "default" in line, f"{flag} has no default in its help: {line!r}"


@pytest.mark.parametrize("args,message", [
    (["grade", "04_lora", "{subs}", "--workers", "0"], "--workers: expected an integer >= 1"),
    (["grade", "04_lora", "{subs}", "--workers", "-1"], "--workers: expected an integer >= 1"),
    (["grade", "", "{subs}"], "the assignment is a folder name"),
    (["grade", "../04_lora", "{subs}"], "the assignment is a folder name"),
    (["grade", "04_lora", "{subs}", "--out", "{file}"], "is a file; give a folder"),
    (["serve", "--port", "0"], "--port must be between 1 and 65535"),
    (["serve", "--port", "70000"], "--port must be between 1 and 65535"),
    (["serve", "--workers", "0"], "--workers must be at least 1"),
])
def test_grade_and_serve_arguments_are_one_clear_line(tmp_path, args, message):
    "Wrong arguments stop before any work with one line on stderr and exit status 2; nothing is written."
    (tmp_path / "subs").mkdir(); (tmp_path / "f").write_text("x")
    args = [a.format(subs=tmp_path / "subs", file=tmp_path / "f") for a in args]
    r = run(*args, timeout=120)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (r.returncode, r.stderr[-2000:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "subs"] and (tmp_path / "f").read_text() == "x"
