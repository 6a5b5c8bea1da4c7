"""The package as an engineer gets it: build, check, install in a clean virtualenv, use offline.

    python scripts/wheel_test.py            # what `make wheel-test` runs
    python scripts/wheel_test.py --keep /tmp/wt   # keep the dist/ and the virtualenv there

Steps, each timed:
1. `python -m build`: an sdist, then a wheel built from that sdist (so both carry the bundled assets:
   every tracked file under ftcourse/assets must be in each);
2. `twine check` on both;
3. a fresh virtualenv (no system site-packages) with only the pinned CPU torch (`pip install
   torch==<pin from requirements-cpu.txt>`), then `pip install <wheel>`: its dependencies from the
   package index, nothing from the repository;
4. offline (HF_HUB_OFFLINE=1), from an empty folder: the README's "For engineers" snippet, then
   tests/wheel_finetune.py (a short LoRA fine-tune through the public API on the bundled set, the
   adapter reloaded by PEFT and by ftcourse).
Prints the sizes of the wheel and sdist and the time of each step; exit status 1 at the first failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES: list[tuple[str, float]] = []


class Failed(Exception):
    pass


def step(name: str, cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print(f"wheel-test: {name}: {' '.join(map(str, cmd))[:200]}", flush=True)
    t = time.perf_counter()
    r = subprocess.run(list(map(str, cmd)), text=True, capture_output=True, **kw)
    TIMES.append((name, time.perf_counter() - t))
    if r.returncode:
        raise Failed(f"{name} failed (exit {r.returncode}):\n{(r.stdout + r.stderr)[-6000:]}")
    return r


def torch_pin() -> str:
    pins = (ROOT / "requirements-cpu.txt").read_text(encoding="utf-8")
    m = re.search(r"^torch==(\S+)", pins, re.M)
    if not m:
        raise Failed("requirements-cpu.txt pins no torch version")
    return m.group(1)


def engineers_snippet() -> str:
    "The first ```python block of the README's '## For engineers' section."
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sec = re.search(r"^## For engineers\s*$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    code = re.search(r"^```python\n(.*?)^```", sec.group(1), re.M | re.S) if sec else None
    if not code:
        raise Failed("README.md has no ```python block under '## For engineers'")
    return code.group(1)


def asset_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "ftcourse/assets"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if l.strip()]


def check_archives(dist: Path) -> tuple[Path, Path]:
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise Failed(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    whl, sdist = wheels[0], sdists[0]
    in_wheel = set(zipfile.ZipFile(whl).namelist())
    with tarfile.open(sdist) as t:
        in_sdist = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assets = asset_files()
    if not assets:
        raise Failed("no tracked files under ftcourse/assets")
    for name, files in (("wheel", in_wheel), ("sdist", in_sdist)):
        missing = [a for a in assets if a not in files]
        if missing:
            raise Failed(f"the {name} lacks {len(missing)} bundled asset(s), e.g. {missing[:3]}")
    if any(n.startswith(("tests/", "nbs/", "solutions/")) for n in in_wheel):
        raise Failed("the wheel carries repository folders besides the package")
    print(f"wheel-test: both archives carry the {len(assets)} bundled asset files")
    return whl, sdist


def run(keep: Path | None, base_python: str) -> int:
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ftcourse-wheel-"))
    if keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    dist, venv, empty = work / "dist", work / "venv", work / "run"
    empty.mkdir()
    try:
        step("build sdist + wheel", [sys.executable, "-m", "build", "--outdir", dist, ROOT])
        whl, sdist = check_archives(dist)
        step("twine check", [sys.executable, "-m", "twine", "check", "--strict", whl, sdist])
        step("create virtualenv", [base_python, "-m", "venv", venv])
        py = venv / "bin" / "python"
        step("install torch (pinned CPU build)", [py, "-m", "pip", "install", "-q", f"torch=={torch_pin()}"])
        step("install the wheel", [py, "-m", "pip", "install", "-q", whl])
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", MPLBACKEND="Agg")
        pkgs = step("list installed", [py, "-m", "pip", "list", "--format=freeze"], env=env).stdout
        print("wheel-test: installed " + ", ".join(l for l in pkgs.split() if re.match(r"(?i)(torch|transformers|peft|datasets|ftcourse)==", l)))
        r = step("README 'For engineers' snippet, offline", [py, "-c", engineers_snippet()], cwd=empty, env=env, timeout=1800)
        print(r.stdout.strip()[-2000:])
        r = step("LoRA fine-tune through the public API, offline", [py, ROOT / "tests" / "wheel_finetune.py"],
                 cwd=empty, env=env, timeout=1800)
        print(r.stdout.strip()[-2000:])
    except (Failed, subprocess.TimeoutExpired) as e:
        print(f"wheel-test: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        sizes = {p.name: p.stat().st_size for p in dist.glob("*")} if dist.exists() else {}
        venv_mb = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file()) / 1e6 if venv.exists() else 0
        print("\nwheel-test summary")
        for n, s in sizes.items():
            print(f"  {n:48s} {s / 1e6:8.2f} MB")
        print(f"  {'virtualenv on disk':48s} {venv_mb:8.0f} MB")
        for name, secs in TIMES:
            print(f"  {name:48s} {secs:8.1f} s")
        print(f"  {'total':48s} {sum(s for _, s in TIMES):8.1f} s")
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    print("wheel-test: passed")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temporary one)")
    p.add_argument("--python", default=shutil.which("python3") or sys.executable,
                   help="the interpreter the clean virtualenv is made from (default: python3 on PATH)")
    a = p.parse_args(argv)
    return run(a.keep, a.python)


if __name__ == "__main__":
    sys.exit(main())
