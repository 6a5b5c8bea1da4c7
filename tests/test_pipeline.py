"""Lesson 09's pipeline: the run configuration's errors, determinism, and a run killed during training that resumes.

The runs are small (32 training examples, 4 optimizer steps, no export): what is tested is the pipeline's
bookkeeping, not the model's quality."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from ftcourse.pipeline import ConfigError, RunConfig, load_config, run_pipeline

SMALL = dict(name="t", train_limit=32, eval_limit=16, batch_size=8, save_every=1, head_only_baseline=False,
             export=False, int8=False, serve=False, device="cpu")
STEPS = 4


TIMINGS = ("train_seconds", "median_step_seconds")


def metrics(rep):
    "Everything a run measured about the model (not how long it took)."
    results = {m: {k: v for k, v in r.items() if k not in TIMINGS} for m, r in rep["results"].items()}
    return results, rep["test_predictions"], rep["macro"], rep["paired_tests"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    "One uninterrupted run: the result every other run is compared with."
    return run_pipeline(RunConfig(**SMALL), tmp_path_factory.mktemp("a") / "run", log=lambda s: None)


def test_same_seed_gives_identical_metrics(reference, tmp_path):
    again = run_pipeline(RunConfig(**SMALL), tmp_path / "run", log=lambda s: None)
    assert metrics(again) == metrics(reference)
    assert again["results"]["LoRA"]["steps"] == STEPS and again["resumed_from"] is None
    other = run_pipeline(RunConfig(**{**SMALL, "seed": 1}), tmp_path / "seed1", log=lambda s: None)
    assert other["test_predictions"] != reference["test_predictions"]    # the seed matters, so the equality above means something


def test_killed_run_resumes_from_its_checkpoint(reference, tmp_path):
    out = tmp_path / "run"
    code = ("import json, sys; from ftcourse.pipeline import RunConfig, run_pipeline; "
            "run_pipeline(RunConfig(**json.loads(sys.argv[1])), sys.argv[2])")
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(SMALL), str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    pointer, t0 = out / "train" / "checkpoints" / "latest", time.monotonic()
    while not pointer.exists():
        assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() - t0 < 240, "no checkpoint within 240 s"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL); proc.wait()
    killed_at = int(pointer.read_text().strip().split("-")[1])
    assert killed_at < STEPS, f"the run had finished training (step {killed_at}) before it was killed"
    assert not (out / "report.json").exists()
    resumed = run_pipeline(RunConfig(**SMALL), out, log=lambda s: None)
    assert resumed["resumed_from"] is not None and int(resumed["resumed_from"].split("-")[1]) >= killed_at
    assert metrics(resumed) == metrics(reference)
    assert resumed["results"]["LoRA"]["steps"] == STEPS


def test_a_folder_with_checkpoints_refuses_another_configuration(reference, tmp_path):
    out = Path(reference["adapter"]["path"]).parent
    with pytest.raises(ConfigError, match=r"fields \['lr'\] differ"):
        run_pipeline(RunConfig(**{**SMALL, "lr": 2e-3}), out, log=lambda s: None)


@pytest.mark.parametrize("text,message", [
    ("lr: 1e-4\n", "lr: '1e-4' is a string, not a number: YAML 1.1"),
    ("lr: 5E-5\n", "write 5.0e-5"),
    ("epochs: two\n", "epochs: expected an integer, got 'two'"),
    ("epochs: true\n", "epochs: expected an integer, got True"),
    ("serve: yes please\n", "serve: expected true or false"),
    ("targets: query\n", "targets: expected a non-empty list of strings"),
    ("train_limit: 0\n", "train_limit: must be >= 1 or null"),
    ("learning_rate: 1.0e-3\n", "unknown field(s) ['learning_rate']"),
    ("method: full\n", "method: must be one of ['lora', 'qlora']"),
    ("[1, 2]\n", "a mapping of field: value"),
    ("lr: [\n", "not valid YAML"),
])
def test_bad_configuration_names_the_file_and_field(tmp_path, text, message):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e: load_config(path)
    assert str(path) in str(e.value) and message in str(e.value), str(e.value)


def test_configuration_round_trips_and_keeps_types(tmp_path):
    cfg = RunConfig(lr=1e-4, train_limit=100, targets=("query", "key"), alpha=16)
    path = tmp_path / "run.yaml"
    path.write_text(cfg.to_yaml())
    back = load_config(path)
    assert back == cfg and isinstance(back.alpha, float) and back.targets == ["query", "key"]
    assert load_config(path, lr=3e-4, seed=None).lr == 3e-4 and load_config(path, seed=None).seed == 0
    with pytest.raises(FileNotFoundError, match="does not exist"): load_config(tmp_path / "missing.yaml")
