"""What the benches share: training steps taken through the course's loop, and a process's peak resident memory."""
from pathlib import Path


def rss_kb(field: str) -> int:
    "A memory figure of this process from /proc/self/status, in kB (VmRSS: now; VmHWM: the peak)."
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field): return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> int:
    "Reset the peak (VmHWM) to the current resident size and return that size in kB (Linux)."
    Path("/proc/self/clear_refs").write_text("5")
    return rss_kb("VmRSS")


def train_steps(model, batches: list, lr: float = 1e-4, **config) -> dict:
    """One optimizer step of `ftcourse.train.train` per ready batch in `batches`, in order (no shuffling, no
    schedule, no clipping unless `config` asks); returns train's result, whose `step_seconds` times every step.
    The first step of a call also creates the optimizer states: leave it out of per-step timings."""
    from torch.utils.data import DataLoader
    from ftcourse.train import TrainConfig, train
    cfg = dict(max_steps=len(batches), lr=lr, warmup=0, weight_decay=0.0, schedule="constant", max_grad_norm=None,
               load_best=False, progress=False) | config
    return train(model, DataLoader(batches, batch_size=None), TrainConfig(**cfg))
