"""ftcourse.search: samplers, random search and the median rule against Optuna's, successive halving, a pruner inside
`train`, MLflow and TensorBoard round trips, search cost, and the two dashboards served on loopback."""
import json, math, os, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

optuna = pytest.importorskip("optuna")
from ftcourse.search import (Choice, LogUniform, Uniform, config_from_params, log_hparams, log_trial, median_should_prune, mlflow_tracking,
                             pruning_eval_fn, random_search, read_hparams, sample_params, search_cost, successive_halving, suggest_params)
from ftcourse.train import TrainConfig, train

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = {"lr": LogUniform(1e-5, 1e-1), "warmup": Uniform(0.0, 0.3), "batch_size": Choice((16, 32, 64)), "act": Choice(("gelu", "relu"))}


def toy(p, budget=9):
    final = 1 - 0.08 * (math.log10(p["lr"]) + 3) ** 2 - 2 * (p["warmup"] - 0.1) ** 2 - 0.01 * (p["batch_size"] == 64) - 0.005 * (p["act"] == "relu")
    return final - 0.5 * math.exp(-budget / (2 + 40 * p["lr"]))


def test_dimensions_draw_within_bounds_and_reject_bad_specs():
    rng = np.random.RandomState(0)
    draws = [sample_params(SPACE, rng) for _ in range(4000)]
    lrs = np.array([d["lr"] for d in draws])
    assert lrs.min() >= 1e-5 and lrs.max() < 1e-1 and abs(np.mean(lrs < 1e-3) - 0.5) < 0.03    # uniform in the exponent
    assert all(0 <= d["warmup"] < 0.3 for d in draws)
    assert {b: round(np.mean([d["batch_size"] == b for d in draws]), 1) for b in (16, 32, 64)} == {16: 0.3, 32: 0.3, 64: 0.3}
    assert sample_params(SPACE, np.random.RandomState(7)) == sample_params(SPACE, np.random.RandomState(7))
    for bad in [lambda: LogUniform(0, 1), lambda: LogUniform(1e-3, 1e-4), lambda: LogUniform("1e-5", 1e-1), lambda: Uniform(1, 1), lambda: Choice(())]:
        with pytest.raises(ValueError): bad()


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_random_search_draws_what_optunas_random_sampler_draws(seed):
    ours = random_search(toy, SPACE, 15, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda t: toy(suggest_params(t, SPACE)), n_trials=15)
    assert [t["params"] for t in ours] == [t.params for t in study.trials]
    assert max(t["value"] for t in ours) == study.best_value


@pytest.mark.parametrize("startup,warmup,seed", [(4, 1, 1), (1, 0, 2), (6, 3, 3)])
def test_median_rule_prunes_what_optunas_median_pruner_prunes(startup, warmup, seed):
    def objective(trial):
        p = suggest_params(trial, SPACE)
        for step in range(9):
            trial.report(toy(p, step + 1), step)
            if trial.should_prune(): raise optuna.TrialPruned()
        return toy(p, 9)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup))
    study.optimize(objective, n_trials=30)
    theirs = [t.last_step if t.state == optuna.trial.TrialState.PRUNED else None for t in study.trials]
    ours, done = [], []
    for t in study.trials:
        values, stop = {}, None
        for step in range(9):
            values[step] = toy(t.params, step + 1)
            if median_should_prune(values, done, startup, warmup): stop = step; break
        if stop is None: done.append(values)
        ours.append(stop)
    assert ours == theirs and any(s is not None for s in theirs)


def test_median_rule_edges():
    done = [{0: 0.5, 1: 0.6}, {0: 0.3, 1: 0.5}, {0: 0.4, 1: 0.55}]
    assert median_should_prune({0: 0.2, 1: 0.5}, done, 3) and not median_should_prune({0: 0.6, 1: 0.5}, done, 3)
    assert not median_should_prune({0: 0.2, 1: 0.5}, done, 4) and not median_should_prune({}, done, 1)
    assert median_should_prune({0: float("nan")}, done, 1)                                  # a NaN trial is stopped
    assert median_should_prune({0: 0.6}, done, 1, maximize=False)                            # losses: higher is worse
    assert not median_should_prune({2: 0.0}, done, 1)                                        # no finished trial reached step 2


def test_successive_halving_budgets_promotion_and_draws():
    calls = []
    def objective(p, budget):
        calls.append((p["lr"], budget)); return toy(p, budget)
    evals = successive_halving(objective, SPACE, n_configs=27, min_budget=1, max_budget=9, eta=3, seed=5)
    assert [sum(e["rung"] == r for e in evals) for r in range(3)] == [27, 9, 3] and sum(e["budget"] for e in evals) == 81
    for r in (1, 2):                                          # the survivors are the best of the rung below
        below = sorted((e for e in evals if e["rung"] == r - 1), key=lambda e: -e["value"])
        assert {e["trial"] for e in evals if e["rung"] == r} == {e["trial"] for e in below[:len(below) // 3]}
    assert [e["params"] for e in evals if e["rung"] == 0] == [t["params"] for t in random_search(toy, SPACE, 27, seed=5)]
    short = successive_halving(lambda p, b: toy(p, b), SPACE, n_configs=10, min_budget=2, max_budget=5, eta=2, seed=0)
    assert [(sum(e["rung"] == r for e in short), max([e["budget"] for e in short if e["rung"] == r], default=0)) for r in range(3)] == [(10, 2), (5, 4), (0, 0)]
    nan_first = successive_halving(lambda p, b: float("nan") if p["batch_size"] == 16 else toy(p, b), SPACE, 9, 1, 3, 3, seed=1)
    assert all(e["params"]["batch_size"] != 16 for e in nan_first if e["rung"] == 1)
    with pytest.raises(ValueError): successive_halving(objective, SPACE, 0)
    with pytest.raises(ValueError): successive_halving(objective, SPACE, 9, eta=1)


def test_config_from_params_validates_types():
    cfg, rest = config_from_params(TrainConfig(epochs=2), {"lr": 1e-3, "batch_size": 64, "hidden": 32})
    assert (cfg.lr, cfg.batch_size, cfg.epochs, rest) == (1e-3, 64, 2, {"hidden": 32})
    with pytest.raises(ValueError, match="lr must be a non-negative number"): config_from_params(TrainConfig(), {"lr": "1e-4"})
    with pytest.raises(ValueError, match="batch_size"): config_from_params(TrainConfig(), {"batch_size": 32.0})


def test_pruner_stops_train_through_eval_fn():
    torch.manual_seed(0)
    X, y = torch.randn(64, 5), torch.randint(0, 2, (64,))
    metrics = lambda m: {"val_accuracy": (m(X).argmax(-1) == y).float().mean().item()}
    seen = {}
    def objective(trial):
        ev = pruning_eval_fn(trial, metrics, "val_accuracy"); seen[trial.number] = ev
        cfg = TrainConfig(epochs=5, batch_size=16, lr=1e-2, metric="val_accuracy", greater_is_better=True, progress=False)
        return train(nn.Linear(5, 2), TensorDataset(X, y), cfg, loss_fn=lambda m, b: F.cross_entropy(m(b[0]), b[1]), eval_fn=ev)["best"]
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=2))   # accuracy < 2: prune once allowed
    study.optimize(objective, n_trials=2)
    assert all(t.state == optuna.trial.TrialState.PRUNED and t.last_step == 2 for t in study.trials)
    assert seen[0].state["evaluations"] == 3 and sorted(seen[0].state["values"]) == [0, 1, 2]
    open_study = optuna.create_study(direction="maximize")
    open_study.optimize(objective, n_trials=1)
    assert open_study.trials[0].state == optuna.trial.TrialState.COMPLETE and len(open_study.trials[0].intermediate_values) == 5
    with pytest.raises(KeyError, match="val_loss"):
        pruning_eval_fn(open_study.ask(), metrics, "val_loss")(nn.Linear(5, 2))


def test_search_cost_arithmetic_and_no_assumed_prices():
    out = search_cost(0.5, 1000, 20, {"a": 2.0, "b": 0.0}, devices_per_trial=2, overhead=0.1)
    assert math.isclose(out["device_hours"], 0.5 * 1000 * 20 * 2 * 1.1 / 3600) and out["cost"]["b"] == 0.0
    assert math.isclose(out["cost"]["a"], 2.0 * out["device_hours"])
    assert search_cost(1.0, 3600, 1, {})["cost"] == {}
    with pytest.raises(TypeError): search_cost(1.0, 10, 1)                                     # the caller supplies prices
    for bad in [dict(prices_per_hour={"x": "3"}), dict(prices_per_hour={"x": -1.0}), dict(prices_per_hour={"x": float("nan")}),
                dict(prices_per_hour={"x": 1.0}, n_trials=0), dict(prices_per_hour={"x": 1.0}, seconds_per_step="0.3")]:
        args = dict(seconds_per_step=0.3, steps_per_trial=10, n_trials=2) | bad
        with pytest.raises(ValueError): search_cost(**args)


def test_mlflow_and_tensorboard_round_trips(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_DISABLE_TELEMETRY", raising=False)
    import logging; logging.getLogger("mlflow").setLevel(logging.WARNING)
    uri = mlflow_tracking(tmp_path / "mlflow.db", "exp")
    import mlflow
    assert uri == f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}" and os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    for i, (lr, acc) in enumerate([(1e-3, 0.7), (3e-3, 0.9)]):
        log_trial({"lr": lr, "r": 8}, {"best_val_accuracy": acc}, [{"step": 5, "val_accuracy": acc - 0.1}, {"step": 10, "val_accuracy": acc}],
                  tags={"state": "COMPLETE"}, run_name=f"t{i}")
    runs = mlflow.search_runs(experiment_names=["exp"], order_by=["metrics.best_val_accuracy DESC"])
    assert list(runs["tags.mlflow.runName"]) == ["t1", "t0"] and list(runs["params.lr"]) == ["0.003", "0.001"]
    hist = mlflow.MlflowClient().get_metric_history(runs["run_id"].iloc[0], "val_accuracy")
    assert sorted((m.step, round(m.value, 6)) for m in hist) == [(5, 0.8), (10, 0.9)]
    for i, acc in enumerate([0.7, 0.9]): log_hparams(tmp_path / "tb" / f"t{i}", {"lr": 1e-3 * (i + 1), "r": 8, "act": "gelu"}, {"hparam/acc": acc})
    rows = read_hparams(tmp_path / "tb")
    assert [r["run"] for r in rows] == ["t0", "t1"] and rows[1]["hparams"] == {"lr": 2e-3, "r": 8.0, "act": "gelu"}
    assert [r["metrics"]["hparam/acc"] for r in rows] == pytest.approx([0.7, 0.9])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _get(url, data=None, deadline=60.0):
    "The first successful answer of url before the deadline (the server may still be starting)."
    t0, last = time.monotonic(), None
    while time.monotonic() - t0 < deadline:
        try:
            req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
            with urllib.request.urlopen(req, timeout=3) as r: return r.status, r.read()
        except OSError as e: last = e; time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {deadline} s: {last}")


@pytest.mark.slow
def test_dashboards_serve_the_stores_on_loopback(tmp_path):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "optuna-dashboard").exists() or not (bin_dir / "mlflow").exists(): pytest.skip("optuna-dashboard / mlflow not installed")
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    study = optuna.create_study(study_name="search-demo", storage=f"sqlite:///{tmp_path}/optuna.db", direction="maximize")
    study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-2, log=True), n_trials=2)
    import logging; logging.getLogger("mlflow").setLevel(logging.WARNING)
    mlflow_tracking(tmp_path / "mlflow.db", "search-demo")
    log_trial({"lr": 1e-3}, {"val_accuracy": 0.5}, run_name="trial-000")
    p1, p2 = _free_port(), _free_port()
    procs = [subprocess.Popen([str(bin_dir / "optuna-dashboard"), f"sqlite:///{tmp_path}/optuna.db", "--host", "127.0.0.1", "--port", str(p1)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env),
             subprocess.Popen([str(bin_dir / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{tmp_path}/mlflow.db", "--host", "127.0.0.1",
                               "--port", str(p2), "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)]
    try:
        status, body = _get(f"http://127.0.0.1:{p1}/api/studies")
        assert status == 200 and [s["study_name"] for s in json.loads(body)["study_summaries"]] == ["search-demo"]
        status, body = _get(f"http://127.0.0.1:{p2}/api/2.0/mlflow/experiments/search", data=json.dumps({"max_results": 10}).encode())
        assert status == 200 and "search-demo" in [e["name"] for e in json.loads(body)["experiments"]]
        status, body = _get(f"http://127.0.0.1:{p2}/")
        assert status == 200 and b"<html" in body.lower()
    finally:
        for p in procs: p.terminate()
        for p in procs:
            try: p.wait(15)
            except subprocess.TimeoutExpired: p.kill(); p.wait(5)
