"""Time the steps of `make test` and print them as a table at the end (standard library only).

    python scripts/test_timing.py run FILE NAME -- COMMAND...   run COMMAND, append "NAME<TAB>seconds<TAB>status" to FILE
    python scripts/test_timing.py table FILE [NBDEV_TEST_LOG]   print the table (lessons from `nbdev-test --timing`)

`run` keeps COMMAND's exit status, so `make` stops where it would have; `table` prints whatever was
recorded up to then, so a failing run still shows where its time went.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path


def run(file: Path, name: str, cmd: list[str]) -> int:
    t = time.perf_counter()
    try:
        rc = subprocess.call(cmd)
    except KeyboardInterrupt:
        rc = 130
    secs = time.perf_counter() - t
    with file.open("a", encoding="utf-8") as f:
        f.write(f"{name}\t{secs:.1f}\t{'ok' if rc == 0 else f'FAILED (exit {rc})'}\n")
    return rc


def table(file: Path, lessons_log: Path | None) -> int:
    rows = [l.split("\t") for l in file.read_text(encoding="utf-8").splitlines() if l.strip()] if file.is_file() else []
    lessons = []
    if lessons_log and lessons_log.is_file():   # nbdev-test --timing: "04_lora.ipynb: 212 secs", slowest first
        lessons = re.findall(r"^(\S+\.ipynb): (\d+) secs$", lessons_log.read_text(encoding="utf-8"), re.M)
    width = max([len(r[0]) for r in rows] + [len(f"  {n}") for n, _ in lessons] + [20])
    print(f"\n{'make test, wall time':{width}s}  {'seconds':>8s}  status")
    for name, secs, status in rows:
        print(f"{name:{width}s}  {float(secs):8.1f}  {status}")
        if name == "lessons" and lessons:
            for nb, s in sorted(lessons):
                print(f"{'  ' + nb:{width}s}  {float(s):8.1f}  (two notebooks at a time)")
    total = sum(float(r[1]) for r in rows)
    print(f"{'total':{width}s}  {total:8.1f}  ({total / 60:.1f} min)")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[0] == "run" and "--" in argv:
        i = argv.index("--")
        return run(Path(argv[1]), argv[2], argv[i + 1:])
    if len(argv) in (2, 3) and argv[0] == "table":
        return table(Path(argv[1]), Path(argv[2]) if len(argv) == 3 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
