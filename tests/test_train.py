"""ftcourse.train: accumulation, schedules, clipping, early stopping, and checkpoints that survive SIGKILL, for real.

The kill-and-resume tests run tests/train_child.py in a child process, kill it with SIGKILL (between
checkpoints, in the middle of writing a checkpoint file, and after a checkpoint folder is renamed but
before the `latest` pointer moves), resume it, and compare the final weights and the whole training
history with an uninterrupted run."""
import csv, os, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
import torch.nn.functional as F
from ftcourse import train as T

CHILD = Path(__file__).with_name("train_child.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


# --- the kill-and-resume tests ------------------------------------------------------------------

def run_child(out: Path, result: Path, *extra: str, timeout: float = 120):
    "Run the child to completion; return its stdout."
    p = subprocess.run([sys.executable, str(CHILD), str(out), str(result), *extra], env=ENV, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return p.stdout


def kill_child_when(out: Path, result: Path, *extra: str, ready, timeout: float = 120) -> str:
    "Start the child, SIGKILL it as soon as `ready(stdout_lines)` is true; return what it printed."
    p = subprocess.Popen([sys.executable, str(CHILD), str(out), str(result), *extra], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    lines, deadline = [], time.monotonic() + timeout
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in p.stdout), daemon=True)
    reader.start()
    try:
        while not ready(lines):
            assert p.poll() is None, f"the child ended (rc {p.returncode}) before it could be killed: {lines}"
            assert time.monotonic() < deadline, f"timed out waiting to kill the child: {lines}"
            time.sleep(0.01)
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(timeout=30) == -signal.SIGKILL
    finally:
        if p.poll() is None: p.kill(); p.wait()
    assert not result.exists(), "a killed run must not have finished"
    return "\n".join(lines)


def pointer(out: Path) -> str | None:
    ckpt = T.latest_checkpoint(out)
    return ckpt.name if ckpt else None


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    "The uninterrupted run."
    d = tmp_path_factory.mktemp("reference")
    run_child(d / "run", d / "result.pt")
    return torch.load(d / "result.pt", weights_only=True)


def assert_same_run(resumed: dict, reference: dict):
    assert resumed["steps"] == reference["steps"] == 20
    diff = max((resumed["weights"][k] - v).abs().max().item() for k, v in reference["weights"].items())
    assert diff <= 1e-6, f"resumed weights differ from the uninterrupted run's by {diff}"
    rows = lambda r: [(h["step"], sorted(h)) for h in r["history"]]
    assert rows(resumed) == rows(reference), "the same log rows, step by step"
    for a, b in zip(resumed["history"], reference["history"]):
        assert all(abs(a[k] - b[k]) <= 1e-6 for k in b), f"step {b['step']}: {a} != {b}"


def metric_rows(out: Path, metric: str) -> list[int]:
    with (out / "metrics.csv").open() as f: return [int(r["step"]) for r in csv.DictReader(f) if r["metric"] == metric]


def test_sigkill_between_checkpoints_then_resume_equals_uninterrupted(tmp_path, reference):
    out, result = tmp_path / "run", tmp_path / "result.pt"
    # slow steps; kill once the pointer names step 6 or later (a mid-epoch position: groups of 4 steps per epoch)
    kill_child_when(out, result, "--slow", "0.03", ready=lambda lines: (pointer(out) or "") >= "step-00000006")
    killed_at = pointer(out)
    stdout = run_child(out, result)
    assert f"START {killed_at}" in stdout                        # it really resumed, not restarted
    resumed = torch.load(result, weights_only=True)
    assert resumed["resumed_from"] == killed_at
    assert_same_run(resumed, reference)
    assert metric_rows(out, "loss") == list(range(1, 21))        # rows the killed run wrote after its checkpoint were dropped
    assert metric_rows(out, "val_loss") == [3, 6, 9, 12, 15, 18, 20]


def test_sigkill_during_checkpoint_writes_never_leaves_a_bad_checkpoint(tmp_path, reference):
    out, result = tmp_path / "run", tmp_path / "result.pt"
    ckpts = out / "checkpoints"
    # 1. killed half-way through writing training_state.pt of step 8
    kill_child_when(out, result, "--hang-at", "8", "--hang-in", "file", ready=lambda lines: "HANG" in lines)
    assert pointer(out) == "step-00000006"
    partial = ckpts / ".tmp-step-00000008"
    assert partial.is_dir() and not (ckpts / "step-00000008").exists()
    with pytest.raises(FileNotFoundError, match="not a checkpoint"):
        T.load_training_state(partial, nn.Linear(1, 1))
    # 2. resumed, then killed after the step-12 folder is complete but before the pointer names it
    kill_child_when(out, result, "--hang-at", "12", "--hang-in", "pointer", ready=lambda lines: "HANG" in lines)
    assert pointer(out) == "step-00000010" and (ckpts / "step-00000012").is_dir()
    assert not partial.exists()                                   # the stale temporary folder was cleaned up
    # 3. resumed to the end: the same weights and history as the run nobody killed
    stdout = run_child(out, result)
    assert "START step-00000010" in stdout
    assert_same_run(torch.load(result, weights_only=True), reference)
    assert metric_rows(out, "loss") == list(range(1, 21))


def test_damaged_or_missing_checkpoint_is_a_clear_error(tmp_path):
    torch.manual_seed(0)
    net = nn.Linear(3, 2); opt = T.make_optimizer(net, 1e-3)
    path = T.save_training_state(tmp_path, net, opt, progress={"step": 5})
    with (path / T.MODEL_FILE).open("r+b") as f: f.truncate(10)
    with pytest.raises(RuntimeError, match="damaged"): T.load_training_state(path, nn.Linear(3, 2))
    (tmp_path / "checkpoints" / T.POINTER).write_text("step-00000099\n")
    with pytest.raises(FileNotFoundError, match="does not exist"): T.latest_checkpoint(tmp_path)
    assert T.latest_checkpoint(tmp_path / "elsewhere") is None
    with pytest.raises(ValueError, match="step"): T.save_training_state(tmp_path, net, opt, progress={})


def test_checkpoint_restores_everything_in_process(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    opt = T.make_optimizer(net, 1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, T.lr_lambda("cosine", 10, 2))
    scaler = torch.amp.GradScaler("cpu", init_scale=128.0)
    for _ in range(3):
        scaler.scale(net(torch.randn(5, 4)).pow(2).mean()).backward(); T.clip_and_step(opt, scaler, 1.0); opt.zero_grad(); sched.step()
    T.save_training_state(tmp_path, net, opt, sched, scaler, {"step": 3, "epoch": 1, "batch": 2})
    expected = net(torch.randn(2, 4))
    torch.manual_seed(123)                                         # scramble the generators
    net2 = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1)); opt2 = T.make_optimizer(net2, 1e-2)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, T.lr_lambda("cosine", 10, 2)); scaler2 = torch.amp.GradScaler("cpu")
    progress = T.load_training_state(T.latest_checkpoint(tmp_path), net2, opt2, sched2, scaler2)
    assert progress == {"step": 3, "epoch": 1, "batch": 2}
    assert torch.equal(net2(torch.randn(2, 4)), expected)
    assert sched2.last_epoch == 3 and sched2.get_last_lr() == sched.get_last_lr() and scaler2.get_scale() == scaler.get_scale()


def test_resume_false_refuses_to_mix_runs(tmp_path):
    data = [{"x": torch.randn(2), "labels": torch.randn(1)} for _ in range(4)]
    cfg = T.TrainConfig(batch_size=2, out_dir=str(tmp_path), progress=False)
    T.train(Reg(), data, cfg, loss_fn=reg_loss)
    with pytest.raises(FileExistsError, match="earlier run"): T.train(Reg(), data, cfg, loss_fn=reg_loss, resume=False)


# --- the loop's arithmetic ------------------------------------------------------------------------

class Reg(nn.Module):
    def __init__(self): super().__init__(); self.lin = nn.Linear(2, 1)
    def forward(self, x): return self.lin(x)


def reg_loss(model, batch): return F.mse_loss(model(batch["x"]), batch["labels"])


@pytest.fixture
def captured_grads():
    "The gradient of every parameter at each optimizer step, recorded by a global step pre-hook."
    grads = []
    handle = register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: grads.append([p.grad.clone() if p.grad is not None else None for g in opt.param_groups for p in g["params"]]))
    yield grads
    handle.remove()


def regression_data(n: int):
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(n, 2, generator=g), torch.randn(n, 1, generator=g)
    return [{"x": x, "labels": y} for x, y in zip(X, Y)], X, Y


def test_accumulation_equals_the_big_batch_and_handles_the_partial_group(captured_grads):
    data, X, Y = regression_data(10)
    torch.manual_seed(0); model = Reg()
    # lr 0: the weights stay put, so every step's gradient can be recomputed directly
    res = T.train(model, data, T.TrainConfig(batch_size=2, grad_accum=4, lr=0.0, weight_decay=0.0, warmup=0, max_grad_norm=None, progress=False), loss_fn=reg_loss)
    assert res["steps"] == 2 and len(captured_grads) == 2          # 5 micro-batches -> groups [4, 1]: the tail is stepped
    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    for grads, rows in zip(captured_grads, [order[:8], order[8:]]):
        lin = nn.Linear(2, 1); lin.load_state_dict(model.lin.state_dict())
        ref = torch.autograd.grad(F.mse_loss(lin(X[rows]), Y[rows]), lin.weight)[0]
        assert torch.allclose(grads[0], ref, atol=1e-6), "each step's gradient is its group's mean-loss gradient (the partial group divided by 1, not 4)"


def test_fewer_batches_than_accumulation_steps_still_steps(captured_grads):
    data, _, _ = regression_data(3)
    torch.manual_seed(0); model = Reg(); w0 = model.lin.weight.detach().clone()
    res = T.train(model, data, T.TrainConfig(batch_size=1, grad_accum=8, epochs=2, lr=0.1, warmup=0, progress=False), loss_fn=reg_loss)
    assert res["steps"] == 2 and len(captured_grads) == 2 and not torch.equal(model.lin.weight, w0)


def test_first_step_ignores_gradients_left_before_training(captured_grads):
    data, X, Y = regression_data(4)
    torch.manual_seed(0); model = Reg()
    model.lin.weight.grad = torch.full_like(model.lin.weight, 100.0)   # e.g. a sanity-check backward before training
    lin = nn.Linear(2, 1); lin.load_state_dict(model.lin.state_dict())
    T.train(model, data, T.TrainConfig(batch_size=4, lr=0.0, warmup=0, max_grad_norm=None, progress=False), loss_fn=reg_loss)
    ref = torch.autograd.grad(F.mse_loss(lin(X), Y), lin.weight)[0]
    assert torch.allclose(captured_grads[0][0], ref, atol=1e-6)


def test_clipping_sees_unscaled_gradients():
    lin = nn.Linear(3, 1); opt = torch.optim.SGD(lin.parameters(), lr=0.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 12)
    scaler.scale(lin(torch.randn(4, 3)).sum()).backward()
    true_norm = torch.cat([p.grad.flatten() for p in lin.parameters()]).norm().item() / 2 ** 12
    norm, stepped = T.clip_and_step(opt, scaler, max_grad_norm=1e9)
    assert stepped and norm == pytest.approx(true_norm, rel=1e-5)


def test_schedules():
    for s in T.SCHEDULES:
        f = T.lr_lambda(s, 50, 5)
        assert [f(i) for i in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert T.lr_lambda("linear", 50, 5)(27) == pytest.approx(1 - 22 / 45)
    assert T.lr_lambda("cosine", 50, 0, min_ratio=0.2)(50) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unknown schedule"): T.lr_lambda("step", 10)
    with pytest.raises(ValueError, match="warmup_steps"): T.lr_lambda("linear", 10, 11)


def test_config_validation():
    with pytest.raises(ValueError, match="lr must be a non-negative number"): T.TrainConfig(lr="1e-4")
    with pytest.raises(ValueError, match="precision"): T.TrainConfig(precision="float16")
    with pytest.raises(ValueError, match="grad_accum"): T.TrainConfig(grad_accum=0)
    with pytest.raises(ValueError, match="out_dir"): T.TrainConfig(tensorboard=True)


def test_early_stopping_stops_and_restores_the_best_weights():
    data, _, _ = regression_data(8)
    values, snapshots = iter([1.0, 0.5, 0.7, 0.6, 0.9, 0.1]), {}
    def eval_fn(m):
        snapshots[len(snapshots) + 1] = m.lin.weight.detach().clone()
        return {"val_score": next(values)}
    torch.manual_seed(0); model = Reg()
    res = T.train(model, data, T.TrainConfig(batch_size=2, epochs=10, lr=0.05, eval_every=1, patience=3, metric="val_score", progress=False),
                  loss_fn=reg_loss, eval_fn=eval_fn)
    assert res["stopped_early"] and res["steps"] == 5 and res["best"] == 0.5 and res["best_step"] == 2
    assert torch.equal(model.lin.weight, snapshots[2])
    es = T.EarlyStopping(patience=1, greater_is_better=True)
    assert es.update(0.5) and not es.update(float("nan")) and es.should_stop


def test_fp16_weights_with_fp16_amp_is_refused():
    data, _, _ = regression_data(4)
    with pytest.raises(ValueError, match="float16"):
        T.train(Reg().half(), data, T.TrainConfig(batch_size=2, precision="fp16", progress=False), loss_fn=reg_loss)


def test_divergence_is_reported_with_the_learning_rate():
    data, _, _ = regression_data(16)
    for d in data: d["labels"] = d["labels"] * 1e30
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        T.train(Reg(), data, T.TrainConfig(batch_size=4, epochs=50, lr=1.0, progress=False), loss_fn=reg_loss)


# --- Hugging Face models --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=3)
    torch.manual_seed(0)
    return lambda: BertForSequenceClassification(cfg)


def bert_batch():
    g = torch.Generator().manual_seed(0)
    return {"input_ids": torch.randint(0, 100, (4, 10), generator=g), "attention_mask": torch.ones(4, 10, dtype=torch.long),
            "labels": torch.tensor([0, 1, 2, 0])}


def test_gradient_checkpointing_gives_the_same_gradients(tiny_bert):
    m1 = tiny_bert(); m2 = tiny_bert(); m2.load_state_dict(m1.state_dict())
    T.enable_gradient_checkpointing(m2)
    m1.train(); m2.train()
    m1(**bert_batch()).loss.backward(); m2(**bert_batch()).loss.backward()
    assert m2.is_activation_checkpointing if hasattr(m2, "is_activation_checkpointing") else m2.is_gradient_checkpointing
    for (n, p1), p2 in zip(m1.named_parameters(), m2.parameters()):
        assert torch.allclose(p1.grad, p2.grad, atol=1e-6), n


def test_freezing_and_layerwise_learning_rates(tiny_bert):
    m = tiny_bert()
    assert T.block_index("bert.encoder.layer.2.output.dense.weight") == 2 and T.block_index("model.layers.11.mlp.up_proj.weight") == 11
    assert T.block_index("classifier.weight") is None
    head_only, total = T.set_trainable(m, 0)
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable == {"bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"}
    top1, _ = T.set_trainable(m, 1)
    assert head_only < top1 < total and m.bert.encoder.layer[2].output.dense.weight.requires_grad
    assert not m.bert.encoder.layer[1].output.dense.weight.requires_grad and not m.bert.embeddings.word_embeddings.weight.requires_grad
    assert T.set_trainable(m, None)[0] == total
    groups = T.layerwise_lr_groups(m, lr=1e-3, decay=0.5)
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    assert lr_of[id(m.classifier.weight)] == 1e-3 and lr_of[id(m.bert.encoder.layer[2].output.dense.weight)] == 1e-3
    assert lr_of[id(m.bert.encoder.layer[0].output.dense.weight)] == pytest.approx(1e-3 / 4)
    assert lr_of[id(m.bert.embeddings.word_embeddings.weight)] == pytest.approx(1e-3 / 8)
    assert sum(len(g["params"]) for g in groups) == len(list(m.parameters()))


def test_train_a_hugging_face_model_with_bf16_and_a_trainer_config(tiny_bert, tmp_path):
    m = tiny_bert()
    data = [{k: v[i] for k, v in bert_batch().items()} for i in range(4)] * 4
    cfg = T.TrainConfig(batch_size=4, epochs=2, lr=1e-3, precision="bf16", eval_every=2, patience=5, out_dir=str(tmp_path), progress=False)
    res = T.train(m, data, cfg, val_data=data[:4], collate_fn=torch.utils.data.default_collate)
    assert res["steps"] == 8 and all(torch.isfinite(torch.tensor(h["loss"])) for h in res["history"] if "loss" in h)
    assert (tmp_path / "best" / T.MODEL_FILE).exists()
    args = T.training_arguments(cfg, tmp_path / "hf")
    assert (args.eval_strategy, args.eval_steps, args.metric_for_best_model, args.bf16) == ("steps", 2, "loss", True)
    assert args.load_best_model_at_end and args.per_device_train_batch_size == 4 and args.lr_scheduler_type == "linear"
