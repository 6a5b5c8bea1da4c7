"""Execute notebooks in place so that their committed outputs are what readers see.

    python scripts/execute_notebooks.py nbs/04_lora.ipynb [more.ipynb ...] [--skip-slow] [--timeout 3600]

Each notebook runs top to bottom in a fresh kernel, in its own folder, with the inline plot backend
(plots become PNG outputs) and every cell included, `#| slow` cells too (the committed outputs are the
full-budget run; `--skip-slow` gives the CI path for a quick look). Afterwards:

- widget outputs (tqdm or `datasets` progress bars drawn as Jupyter widgets) are removed: saved, they
  show as a frozen "0%|" bar;
- progress bars written as text to stderr are removed;
- any other stderr output is kept and listed at the end, so warnings get fixed where they arise;
- `nbdev-clean` normalises the metadata.

The script stops with an error at the first cell that raises (unless the cell is tagged to allow it).
"""
from __future__ import annotations
import argparse, os, re, subprocess, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"
BAR = re.compile(r"(\d+%\|)|(\d+it \[)|(it/s\])|(s/it\])|(examples/s\])|(^\s*$)")


def is_progress_text(text: str) -> bool:
    "A stderr chunk made only of progress-bar lines (tqdm, datasets.map)."
    lines = [l for l in re.split(r"[\r\n]", text) if l.strip()]
    return bool(lines) and all(BAR.search(l) for l in lines)


def strip_outputs(nb) -> list[str]:
    "Drop widget and progress-bar outputs in place; return the stderr texts that remain."
    left = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code": continue
        kept = []
        for o in cell.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result") and WIDGET in o.get("data", {}): continue
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                if is_progress_text(o.get("text", "")): continue
                left.append(f"cell {i}: {o['text'].strip()[:300]}")
            kept.append(o)
        cell.outputs = kept
    return left


def execute(path: Path, skip_slow: bool, timeout: int) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    hidden = []
    if skip_slow:
        for c in nb.cells:
            if c.cell_type == "code" and re.search(r"^#\|\s*slow\b", c.source, re.M):
                hidden.append((c, c.source)); c.source = "# (slow cell skipped)"
    env_drop = ("MPLBACKEND",)                       # Agg would swallow every plot
    saved = {k: os.environ.pop(k) for k in env_drop if k in os.environ}
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent.resolve())}})
        client.execute()
    finally:
        os.environ.update(saved)
        for c, src in hidden: c.source = src
    left = strip_outputs(nb)
    nbformat.write(nb, path)
    return left, slowest(nb)


def slowest(nb, n: int = 5) -> list[str]:
    "The `n` code cells that took longest, from the timings nbclient records, as 'cell i: s seconds: first line'."
    from datetime import datetime
    times = []
    for i, c in enumerate(nb.cells):
        ex = c.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            t = (datetime.fromisoformat(ex["shell.execute_reply"].rstrip("Z")) - datetime.fromisoformat(ex["iopub.execute_input"].rstrip("Z"))).total_seconds()
            times.append((t, i, c.source.splitlines()[0][:70] if c.source else ""))
    return [f"cell {i}: {t:.0f} s: {line}" for t, i, line in sorted(times, reverse=True)[:n]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--skip-slow", action="store_true", help="skip `#| slow` cells (default: run them: committed outputs are full runs)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default 3600)")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of the kernel (default 1: lessons are sized for one)")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    # The machines this project is built on reach no model hub: fail fast there. A notebook never sets this itself.
    os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import torch
    if not torch.cuda.is_available(): os.environ.setdefault("DS_ACCELERATOR", "cpu")   # what DeepSpeed concludes anyway, without its warning
    for p in args.notebooks:
        if not p.exists(): ap.error(f"no such notebook: {p}")
    for p in args.notebooks:
        t = time.perf_counter()
        print(f"executing {p} ...", flush=True)
        left, slow = execute(p, args.skip_slow, args.timeout)
        print(f"  done in {time.perf_counter() - t:.0f} s; slowest cells:")
        for line in slow: print(f"    {line}")
        for line in left: print(f"  stderr left in output: {line}")
        subprocess.run([str(Path(sys.executable).parent / "nbdev-clean"), "--fname", str(p)], check=True)


if __name__ == "__main__":
    main()
