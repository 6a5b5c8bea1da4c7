"""Prove the lower bounds that pyproject.toml declares: one environment at the lowest versions, the library tests in it.

    python scripts/lowest_test.py                  # what `make lowest-test` runs (.venv-lowest, kept for reruns)
    python scripts/lowest_test.py --venv DIR --fresh

Every base requirement `name>=X` is installed at exactly `name==X` (torch at the pin of
requirements-cpu.txt: the CPU build on these machines); what those need is resolved by pip as a user's
install would be (the newest versions that fit). pytest comes at the project's pin. Then the package
itself (no dependencies), and the library's tests (not the grading, docs, notebook or CLI suites,
which need the dev and grading extras) run offline against it.

A bound that fails here is raised in pyproject.toml to the lowest version that passes; the versions
proved are printed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_TESTS = ["tests/test_core.py", "tests/test_data.py", "tests/test_data_assets.py", "tests/test_train.py",
                 "tests/test_lora.py", "tests/test_quant.py", "tests/test_tinylm.py"]


def pins() -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements-cpu.txt").read_text(encoding="utf-8"), re.M))


def lowest_requirements() -> list[str]:
    "Each base dependency at its declared lower bound; torch at the pinned CPU build."
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    out = []
    for d in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([\w.]+)\s*(?:,.*)?", d)
        if not m:
            raise SystemExit(f"lowest_test: cannot read a lower bound from {d!r} (write it as name>=X)")
        name, low = m.groups()
        out.append(f"torch=={pins()['torch']}" if name == "torch" else f"{name}=={low}")
    return out


def sh(cmd: list, **kw) -> None:
    print("lowest-test: " + " ".join(map(str, cmd))[:300], flush=True)
    subprocess.run(list(map(str, cmd)), check=True, **kw)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--venv", type=Path, default=ROOT / ".venv-lowest")
    p.add_argument("--fresh", action="store_true", help="recreate the environment")
    p.add_argument("--python", default=shutil.which("python3") or sys.executable)
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (default: the library tests)")
    a = p.parse_args(argv)
    reqs = lowest_requirements()
    stamp = a.venv / ".lowest-stamp"
    want = "\n".join(reqs)
    if a.fresh and a.venv.exists():
        shutil.rmtree(a.venv)
    py = a.venv / "bin" / "python"
    if not (stamp.is_file() and stamp.read_text() == want):
        if a.venv.exists():
            shutil.rmtree(a.venv)
        sh([a.python, "-m", "venv", a.venv])
        sh([py, "-m", "pip", "install", "-q", *reqs, f"pytest=={pins()['pytest']}"])
        sh([py, "-m", "pip", "install", "-q", "--no-deps", "-e", ROOT])
        stamp.write_text(want)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", MPLBACKEND="Agg")
    frozen = subprocess.run([py, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, env=env).stdout
    names = [re.split(r"[=<>]", r)[0].lower() for r in reqs]
    got = {l.split("==")[0].lower(): l.split("==")[1] for l in frozen.split() if "==" in l}
    r = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(a.pytest_args or LIBRARY_TESTS)],
                       cwd=ROOT, env=env)
    print("\nlowest-test: versions in this environment (declared dependencies, and numpy):")
    for n in [*names, "numpy", "huggingface-hub", "accelerate"]:
        key = next((k for k in got if k.replace("_", "-") == n.replace("_", "-")), None)
        print(f"  {n:24s} {got.get(key, '-') if key else '-'}")
    print("lowest-test: " + ("passed" if r.returncode == 0 else f"FAILED (pytest exit {r.returncode})"))
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
