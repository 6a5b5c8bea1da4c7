"""Distributed training for real: two-process jobs on loopback under torchrun (one node and two "nodes"),
accelerate launch and the deepspeed launcher reach the same final loss; DeepSpeed ZeRO stages 0-3 agree,
a ZeRO-3 checkpoint reloads exactly and each stage's per-rank bytes equal the formula. Plus the library's
single-process pieces against references, and its errors."""
import copy, math, os, random, re, shutil, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np
import pytest
import torch
import yaml
os.environ.setdefault("DS_ACCELERATOR", "cuda" if torch.cuda.is_available() else "cpu")   # DeepSpeed's accelerator, named instead of probed
from ftcourse import distributed as D
from ftcourse.core import asset_path

TRAIN = ["--blocks", "8", "--epochs", "2", "--batch-size", "2"]       # 4 optimizer steps per job on 4 blocks per rank: enough to compare, cheap to run


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    "Every multi-process job of this file, started side by side (each is two processes; they overlap their start-up). The torchrun job runs the ZeRO task after training: one start-up fewer."
    root = tmp_path_factory.mktemp("jobs")
    specs = {"torchrun": (["train", "zero"], "torchrun"), "torchrun-nodes": (["train"], "torchrun-nodes"),
             "accelerate": (["train"], "accelerate"), "deepspeed": (["train"], "deepspeed")}
    def run(name):
        tasks, launcher = specs[name]
        return name, D.launch(tasks, launcher, nproc=2, out=root / name, options=TRAIN, timeout=600, echo=False)
    with ThreadPoolExecutor(len(specs)) as pool:
        return dict(pool.map(run, specs))


def test_launchers_reach_the_same_loss(jobs):
    "One script under four launchers: the same steps, the same final losses to the last bit, a real two-process job each time."
    finals = {name: (r["train"]["val_loss"], r["train"]["last_train_loss"], r["train"]["steps"]) for name, r in jobs.items() if "train" in r}
    assert len(finals) == 4
    assert len(set(finals.values())) == 1, finals
    r = jobs["torchrun"]["train"]
    assert r["world_size"] == 2 and r["steps"] == 2 * math.ceil(math.ceil(8 / 2) / 2)
    assert r["val_loss"] != r["val_loss_before"]                        # it trained
    assert jobs["torchrun"]["train"]["omp_num_threads"] == "1"            # torchrun with 2 processes per node
    assert jobs["torchrun-nodes"]["train"]["omp_num_threads"] is None     # ... and with 1 per node it does not set it


def test_rank0_checkpoint_is_the_trained_model(jobs):
    "The folder rank 0 wrote reloads into a plain model that scores the validation set exactly as the job did."
    from transformers import AutoModelForCausalLM
    r = jobs["torchrun"]["train"]
    model = AutoModelForCausalLM.from_pretrained(r["checkpoint"])
    val = D._lm_blocks("tinylm", "validation", 64, 32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                                             # as in the job: the same arithmetic
    try: loss = D.lm_metrics(D.distributed_evaluate(model, val))["loss"]
    finally: torch.set_num_threads(threads)
    assert loss == r["val_loss"]


def test_deepspeed_zero_stages(jobs):
    "ZeRO stages 0-3 train alike, ZeRO-3 saves a consolidated model, and each stage's per-rank bytes equal the formula."
    z = jobs["torchrun"]["zero"]
    losses = {int(s): l for s, l in z["losses"].items()}
    assert sorted(losses) == [0, 1, 2, 3] and all(len(l) == 10 for l in losses.values())
    assert max(abs(a - b) for l in losses.values() for a, b in zip(losses[0], l)) < 1e-5
    assert len({round(l[0], 4) for l in losses.values()}) == 1 and losses[0][0] > 1   # a real loss, not a stub
    assert z["zero3_checkpoint"]["naive_state_dict_elements"] == 0 and z["zero3_checkpoint"]["equal"]
    for s, got in z["bytes"].items():
        s = int(s)
        f = D.zero_memory(z["params"], s, 2, param_bytes=2, grad_bytes=6 if s == 1 else 4, optimizer_bytes=12)
        assert got == {"parameters": f.weights, "gradients": f.gradients, "optimizer": f.optimizer}, s
    assert z["bytes"]["3"]["parameters"] * 2 == z["bytes"]["2"]["parameters"]   # stage 3 shards what stage 2 keeps whole


# ---------------------------------------------------------------- single process: references, edges, errors

def test_zero_memory_against_the_paper_and_deepspeed():
    "The paper's worked example, and DeepSpeed's own estimator for random models and cluster sizes, to the byte."
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    assert [round(D.zero_memory(7_500_000_000, s, 64).peak / 1e9, 1) for s in range(4)] == [120.0, 31.4, 16.6, 1.9]
    rng = random.Random(0)
    for _ in range(50):
        n, big, gpus, nodes = rng.randint(1, 10**11), rng.randint(0, 10**9), rng.choice([1, 2, 3, 8]), rng.randint(1, 17)
        ds2 = estimate_zero2_model_states_mem_needs(n, gpus, nodes, cpu_offload=False)[1]
        ds3 = estimate_zero3_model_states_mem_needs(n, big, gpus, nodes, cpu_offload=False, cpu_offload_params=False)[1]
        assert abs(D.zero_memory(n, 2, gpus * nodes, grad_bytes=6).peak - ds2) <= 2
        assert abs(D.zero_memory(n, 3, gpus * nodes, grad_bytes=4, largest_layer_params=big).peak - ds3) <= 2
    one = D.zero_memory(1000, 3, 1)
    assert (one.weights, one.gradients, one.optimizer) == (2000, 2000, 12000)   # one rank: nothing to share


def test_zero_memory_shards_an_estimate_and_rejects_bad_input():
    from ftcourse.memory import MemoryEstimate
    est = MemoryEstimate("x", 100, 100, 400, 400, 800, 1234)
    for stage, n in [(0, 4), (1, 4), (2, 3), (3, 8)]:
        z = D.zero_memory(est, stage, n)
        assert z.weights == round(400 / (n if stage == 3 else 1)) and z.gradients == round(400 / (n if stage >= 2 else 1))
        assert z.optimizer == round(800 / (n if stage >= 1 else 1)) and z.activations == 1234
    assert (est.weights, est.optimizer) == (400, 800)                     # the input is left as it was
    with pytest.raises(ValueError, match="stage must be 0, 1, 2 or 3"): D.zero_memory(10, 4, 2)
    with pytest.raises(ValueError, match="world_size"): D.zero_memory(10, 1, 0)
    with pytest.raises(TypeError, match="parameter count"): D.zero_memory(-5, 1, 2)


def test_deepspeed_config_checks_the_batch_arithmetic():
    rng = random.Random(1)
    for _ in range(30):
        micro, accum, world = rng.randint(1, 16), rng.randint(1, 8), rng.randint(1, 64)
        cfg = D.deepspeed_config(micro, accum, world, stage=rng.randint(0, 3), train_batch_size=micro * accum * world)
        assert cfg["train_batch_size"] == cfg["train_micro_batch_size_per_gpu"] * cfg["gradient_accumulation_steps"] * world
    with pytest.raises(ValueError, match=r"train_batch_size 30 != micro batch 4 × accumulation 2 × world size 4 = 32"):
        D.deepspeed_config(4, 2, 4, train_batch_size=30)
    with pytest.raises(ValueError, match="grad_accum must be a positive int"): D.deepspeed_config(4, 0, 4)
    cfg = D.deepspeed_config(2, 1, 2, stage=3, bf16=True, offload_optimizer=True, stage3_param_persistence_threshold=0)
    assert cfg["bf16"]["enabled"] and cfg["zero_optimization"] == {"stage": 3, "stage3_param_persistence_threshold": 0, "offload_optimizer": {"device": "cpu"}}


def test_single_process_job(monkeypatch):
    "Without a launcher a script is a job of one; half a launcher's environment is an error that says what is missing."
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"): monkeypatch.delenv(k, raising=False)
    env = D.init_distributed(device="cpu")
    assert (env.rank, env.world_size, env.backend) == (0, 1, None) and D.world_size() == 1 and D.is_main()
    with pytest.raises(ValueError, match="use backend='gloo' on CPU"): D.init_distributed("nccl", device="cpu")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="MASTER_ADDR and MASTER_PORT not set"): D.init_distributed(device="cpu")
    lin = torch.nn.Linear(3, 2); lin(torch.ones(1, 3)).sum().backward()
    before = lin.weight.grad.clone()
    assert D.average_gradients(lin.parameters(), "flat") == 0 and torch.equal(lin.weight.grad, before)
    with pytest.raises(ValueError, match="mode must be"): D.average_gradients(lin.parameters(), "tree")
    assert D.global_mean(torch.tensor(9.0), 3).item() == 3.0
    with pytest.raises(ValueError, match="counts no examples"): D.global_mean(torch.tensor(1.0), 0)


def test_distributed_evaluate_in_one_process_is_the_plain_evaluation():
    "Per-example statistics come back in data-set order whatever the batch size; a partial last batch counts once."
    torch.manual_seed(0)
    data = [{"x": torch.randn(3)} for _ in range(23)]
    stats_fn = lambda model, batch: torch.stack([model(batch["x"]).sum(1), torch.ones(len(batch["x"]))], 1)
    model = torch.nn.Linear(3, 2)
    for bs in (1, 4, 23, 50):
        s = D.distributed_evaluate(model, data, stats_fn, batch_size=bs)
        ref = torch.stack([torch.stack([model(d["x"]).sum(), torch.tensor(1.0)]) for d in data]).double()
        assert s.shape == (23, 2) and torch.allclose(s, ref, atol=1e-6) and s[:, 1].sum() == 23
    model.train()
    D.distributed_evaluate(model, data, stats_fn); assert model.training   # mode restored
    with pytest.raises(ValueError, match="empty"): D.distributed_evaluate(model, [], stats_fn)


def test_sampler_shards_and_epochs():
    "distributed_loader in a job of one covers every example once per epoch; set_epoch_hook reshuffles."
    data = list(range(37))
    loader = D.distributed_loader(data, 5, seed=3)
    hook = D.set_epoch_hook(loader)
    epochs = []
    for e in range(3):
        hook(None, e); epochs.append([int(i) for b in loader for i in b])
    assert all(sorted(ep) == data for ep in epochs) and epochs[0] != epochs[1]
    with pytest.raises(TypeError, match="has no set_epoch"): D.set_epoch_hook(torch.utils.data.DataLoader(data))
    with pytest.raises(ValueError, match="batch_size"): D.distributed_loader(data, 0)


def test_pipeline_bubble_and_tensor_parallel_in_one_process():
    for p, m in [(1, 1), (2, 1), (4, 8), (8, 3), (3, 100)]:
        busy = 2 * m                                                     # GPipe: each stage works m forwards and m backwards
        ticks = 2 * (m + p - 1)
        assert math.isclose(D.pipeline_bubble_fraction(p, m), 1 - busy / ticks)
    with pytest.raises(ValueError): D.pipeline_bubble_fraction(0, 4)
    lin = torch.nn.Linear(5, 3)
    x = torch.randn(2, 4, 5)
    assert torch.equal(D.column_parallel(x, lin.weight, lin.bias), lin(x))
    assert torch.allclose(D.row_parallel(x, lin.weight, lin.bias), lin(x))


def test_fit_latency_bandwidth_recovers_a_known_line():
    sizes = [4 ** k * 1024 for k in range(10)]
    for lat, bw in [(50e-6, 2e9), (1e-3, 5e8)]:
        noise = np.random.default_rng(0).uniform(0.97, 1.03, len(sizes))
        fit = D.fit_latency_bandwidth(sizes, [(lat + n / bw) * e for n, e in zip(sizes, noise)])
        assert abs(fit["latency_s"] / lat - 1) < 0.1 and abs(fit["bandwidth_Bps"] / bw - 1) < 0.1 and fit["max_rel_error"] < 0.1


def test_launch_commands():
    for name in D.LAUNCHERS:
        cmds = D.launch_commands(name, ["hello", "--out", "x"], nproc=3, port=12345)
        assert all(c[0] and "ftcourse.distributed" in c[0] for c in cmds)
    nodes = D.launch_commands("torchrun-nodes", ["hello"], nproc=3, port=12345)
    assert len(nodes) == 3 and all(env == {"GLOO_SOCKET_IFNAME": "lo"} for _, env in nodes)
    assert [next(a for a in c if a.startswith("--node-rank=")) for c, _ in nodes] == ["--node-rank=0", "--node-rank=1", "--node-rank=2"]
    assert all("--rdzv-endpoint=127.0.0.1:12345" in c for c, _ in nodes)
    assert D.shell_command(D.launch_commands("accelerate", ["hello"], 2, 1)[0][0]).split()[:2] == ["accelerate", "launch"]
    with pytest.raises(ValueError, match="unknown launcher"): D.launch_commands("mpirun", ["hello"])
    with pytest.raises(ValueError, match="nproc"): D.launch_commands("torchrun", ["hello"], nproc=0)


def test_a_failing_job_is_reported_and_a_hung_one_killed(tmp_path):
    with pytest.raises(RuntimeError, match="exit code 3"):
        D.run_processes([([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], {})], tmp_path, "bad", timeout=60)
    with pytest.raises(TimeoutError, match="killed"):
        D.run_processes([([sys.executable, "-c", "import time; time.sleep(60)"], {})], tmp_path, "hung", timeout=1)
    with pytest.raises(RuntimeError, match="no result for"): D.read_results(tmp_path, ["train"])


def test_cluster_files(tmp_path):
    "The shipped Slurm script and Kubernetes manifests pass the checks; each broken copy fails with its reason."
    sbatch, job = asset_path("cluster", "torchrun.sbatch"), asset_path("cluster", "torchrun-job.yaml")
    D.check_slurm_script(sbatch)
    spec = D.check_k8s_job(job)
    assert spec["nodes"] == 2 and spec["endpoint"] == "ftcourse-ddp-0.ftcourse-ddp:29500"
    broken = tmp_path / "bad.sbatch"; broken.write_text(sbatch.read_text().replace("done", "") + "\nif then fi\n")
    with pytest.raises(ValueError, match="not valid bash"): D.check_slurm_script(broken)
    docs = list(yaml.safe_load_all(job.read_text()))
    def mutated(change):
        d = copy.deepcopy(docs); change(d)
        p = tmp_path / "job.yaml"; p.write_text(yaml.safe_dump_all(d)); return p
    def set_args(d, old, new):
        c = d[1]["spec"]["template"]["spec"]["containers"][0]; c["args"] = [new if a == old else a for a in c["args"]]
    cases = {"parallelism 1 != completions 2": lambda d: d[1]["spec"].update(parallelism=1),
             "must be headless": lambda d: d[0]["spec"].update(clusterIP="10.0.0.1"),
             "is not pod 0": lambda d: set_args(d, "--rdzv-endpoint=ftcourse-ddp-0.ftcourse-ddp:29500", "--rdzv-endpoint=ftcourse-ddp-1.ftcourse-ddp:29500"),
             "--nnodes=3 but the Job runs 2 pods": lambda d: set_args(d, "--nnodes=2", "--nnodes=3"),
             "not a port of the Service": lambda d: set_args(d, "--rdzv-endpoint=ftcourse-ddp-0.ftcourse-ddp:29500", "--rdzv-endpoint=ftcourse-ddp-0.ftcourse-ddp:1234"),
             "each pod gets 1 GPU": lambda d: set_args(d, "--nproc-per-node=1", "--nproc-per-node=8")}
    for message, change in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)): D.check_k8s_job(mutated(change))
