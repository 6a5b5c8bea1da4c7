"""Give every notebook an "Open in Colab" badge and a Colab install cell (idempotent).

Each notebook under nbs/, solutions/ and exercises/ gets, right after its title cell:

1. a markdown cell with the "Open in Colab" badge for the notebook's own path, at the tag of the
   current version (`v` + `ftcourse.__version__`);
2. a code cell that, only in Colab (`"google.colab" in sys.modules`), installs the course package at
   that same tag from the repository URL that pyproject.toml declares (`[project.urls] Repository`),
   with the extras the notebook needs; anywhere else the cell does nothing.

In solutions/ both cells are locked, ungraded nbgrader cells, and the badge opens the *release*
(exercises/NN_topic/NN_topic.ipynb): `nbgrader generate_assignment` copies locked cells unchanged,
so the learner's copy then carries a badge for its own path, and no badge ever opens a solution.
exercises/ is never written here: it is regenerated from solutions/ by nbgrader.

    python scripts/colab_cells.py                     # every notebook in nbs/ and solutions/
    python scripts/colab_cells.py nbs/00_core.ipynb   # only these
    python scripts/colab_cells.py --check             # exit 1 and say what is missing or stale

Run it again after a version bump: the badge and the pin follow `ftcourse.__version__`. A release
needs the tag `v<version>` pushed to the repository, or the badge and the install cell point nowhere.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = "python scripts/colab_cells.py"  # the command that writes the cells (also `make colab`)
BADGE_IMG = "https://colab.research.google.com/assets/colab-badge.svg"
SETUP_MARK = "# Colab only:"  # first line of the install cell (after an optional `#| hide`)
BADGE_ID, SETUP_ID = "colab_badge", "colab_setup"  # nbgrader grade_ids in solutions/


# ------------------------------------------------------------------ what the project declares

def project(root: Path = ROOT) -> dict:
    "Repository URL, GitHub owner/name, version, base requirements and extras, from pyproject.toml and ftcourse/__init__.py."
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    url = (meta.get("urls") or {}).get("Repository", "").rstrip("/")
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?", url)
    if not m:
        raise SystemExit(f"colab_cells: pyproject.toml [project.urls] Repository must be a GitHub repository URL "
                         f"(Colab opens notebooks from GitHub), got {url!r}")
    init = (root / meta["name"] / "__init__.py").read_text(encoding="utf-8")
    v = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init, re.M)
    if not v:
        raise SystemExit(f"colab_cells: no __version__ in {meta['name']}/__init__.py")
    return {"name": meta["name"], "url": url, "slug": f"{m.group(1)}/{m.group(2)}", "version": v.group(1),
            "ref": f"v{v.group(1)}", "deps": meta.get("dependencies", []),
            "extras": meta.get("optional-dependencies", {})}


def notebooks(root: Path = ROOT) -> list[Path]:
    "Every notebook under nbs/, solutions/ and exercises/ (hidden folders and checkpoints skipped)."
    out = []
    for top in ("nbs", "solutions", "exercises"):
        for p in sorted((root / top).rglob("*.ipynb")):
            if not any(part.startswith(".") for part in p.relative_to(root).parts):
                out.append(p)
    return out


def kind(path: Path, root: Path = ROOT) -> str:
    "'lesson' (nbs/), 'source' (solutions/) or 'release' (exercises/)."
    top = path.resolve().relative_to(root).parts[0]
    return {"nbs": "lesson", "solutions": "source", "exercises": "release"}[top]


def badge_target(path: Path, root: Path = ROOT) -> str:
    "The notebook the badge opens: its own path; for a solution, the release generated from it."
    rel = path.resolve().relative_to(root).as_posix()
    return "exercises/" + rel.removeprefix("solutions/") if rel.startswith("solutions/") else rel


# ------------------------------------------------------------------ the extras a notebook needs

def _dist_name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;@(]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def imported_modules(nb: dict) -> set[str]:
    "Top-level names of the modules a notebook's code cells import."
    mods = set()
    for c in nb.get("cells", []):
        if c.get("cell_type") != "code":
            continue
        src = "\n".join(l for l in _src(c).splitlines() if not l.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                mods |= {a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
                mods.add(n.module.split(".")[0])
    return mods


@functools.cache
def _modules_of(dist: str) -> frozenset[str]:
    "Top-level modules a distribution provides (from its installed metadata; else its name)."
    from importlib import metadata

    mods = {dist.replace("-", "_")}
    try:
        d = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return frozenset(mods)
    top = d.read_text("top_level.txt")
    if top:
        return frozenset(mods | set(top.split()))
    for f in d.files or []:
        head = f.parts[0]
        if len(f.parts) > 1 and not head.endswith((".dist-info", ".data")) and head not in ("..", "bin"):
            mods.add(head)
        elif len(f.parts) == 1 and f.suffix == ".py":
            mods.add(f.stem)
    return frozenset(mods)


def extras_for(path: Path, nb: dict, proj: dict) -> list[str]:
    """The extras a notebook needs: `grading` for an exercise (its self-check cell), and every extra
    with a distribution that the notebook imports and the base requirements do not already declare."""
    need = set()
    if kind(path) != "lesson" and "grading" in proj["extras"]:
        need.add("grading")
    base = {_dist_name(r) for r in proj["deps"]}
    mods = imported_modules(nb)
    providers: dict[str, set[str]] = {}  # imported module -> extras that provide it
    for extra, reqs in proj["extras"].items():
        for r in reqs:
            d = _dist_name(r)
            for m in (_modules_of(d) & mods) if d not in base else ():
                providers.setdefault(m, set()).add(extra)
    for m, extras in sorted(providers.items(), key=lambda kv: len(kv[1])):
        if not extras & need:  # the smallest extra that provides it (grading rather than dev)
            need.add(min(extras, key=lambda e: (len(proj["extras"][e]), e)))
    return sorted(need)


# ------------------------------------------------------------------ the two cells

def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def badge_source(path: Path, proj: dict) -> str:
    url = f"https://colab.research.google.com/github/{proj['slug']}/blob/{proj['ref']}/{badge_target(path)}"
    return f"[![Open In Colab]({BADGE_IMG})]({url})"


def setup_source(path: Path, nb: dict, proj: dict) -> str:
    extras = extras_for(path, nb, proj)
    spec = f"{proj['name']}{'[' + ','.join(extras) + ']' if extras else ''} @ git+{proj['url']}@{proj['ref']}"
    lines = ["#| hide"] if kind(path) == "lesson" else []  # the docs site shows the badge, not a no-op cell
    lines += [
        f"{SETUP_MARK} install the course package at this notebook's version; elsewhere this cell does nothing.",
        "import sys",
        'if "google.colab" in sys.modules:',
        "    import subprocess",
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{spec}"], check=True)',
    ]
    return "\n".join(lines)


def _nbgrader_meta(grade_id: str) -> dict:
    return {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                         "solution": False, "task": False}}


def is_badge(cell: dict) -> bool:
    return cell.get("cell_type") == "markdown" and _src(cell).lstrip().startswith("[![Open In Colab]")


def is_setup(cell: dict) -> bool:
    lines = [l for l in _src(cell).splitlines() if l.strip() and not l.startswith("#|")]
    return cell.get("cell_type") == "code" and bool(lines) and lines[0].startswith(SETUP_MARK)


def _directives_only(cell: dict) -> bool:
    "A code cell with nothing but nbdev directives (`#| default_exp core`): it runs nothing."
    return all(l.strip().startswith("#|") or not l.strip() for l in _src(cell).splitlines())


def title_index(nb: dict) -> int:
    "Index of the title cell: the first markdown cell that is not a badge (-1 when there is none)."
    return next((i for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "markdown" and not is_badge(c)), -1)


def problems(path: Path, nb: dict, proj: dict) -> list[str]:
    "What is missing or stale in one notebook (empty when it is right)."
    cells, out = nb.get("cells", []), []
    rel = path.resolve().relative_to(ROOT).as_posix()
    t = title_index(nb)
    want_badge, want_setup = badge_source(path, proj), setup_source(path, nb, proj)
    badges = [i for i, c in enumerate(cells) if is_badge(c)]
    setups = [i for i, c in enumerate(cells) if is_setup(c)]
    first_code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code" and not _directives_only(c)), None)
    if not badges:
        out.append(f"{rel}: no Open-in-Colab badge")
    elif len(badges) > 1 or badges[0] != t + 1:
        out.append(f"{rel}: the Colab badge must be one cell, right after the title cell")
    elif _src(cells[badges[0]]) != want_badge:
        out.append(f"{rel}: stale Colab badge (want {want_badge!r})")
    if not setups:
        out.append(f"{rel}: no Colab install cell")
    elif len(setups) > 1 or setups[0] != first_code or setups[0] != t + 2:
        out.append(f"{rel}: the Colab install cell must be the first code cell, right after the badge")
    elif _src(cells[setups[0]]) != want_setup:
        out.append(f"{rel}: stale Colab install cell (want {want_setup.splitlines()[-1].strip()!r})")
    if kind(path) != "lesson":
        for idx, gid in ((badges, BADGE_ID), (setups, SETUP_ID)):
            for i in idx[:1]:
                g = cells[i].get("metadata", {}).get("nbgrader", {})
                if g.get("grade_id") != gid or not g.get("locked") or g.get("grade") or g.get("solution"):
                    out.append(f"{rel}: the Colab cell {gid!r} must be a locked, ungraded nbgrader cell")
    return out


def fix(path: Path, nb: dict, proj: dict) -> dict:
    "The notebook with exactly one badge and one install cell, right after its title cell (other cells untouched)."
    cells = [c for c in nb["cells"] if not (is_badge(c) or is_setup(c))]
    nb = {**nb, "cells": cells}
    t = title_index(nb)
    if t < 0:
        raise SystemExit(f"colab_cells: {path} has no markdown title cell to put the badge under")
    source = kind(path) == "source"
    badge = {"cell_type": "markdown", "id": "colab-badge", "metadata": _nbgrader_meta(BADGE_ID) if source else {},
             "source": badge_source(path, proj)}
    setup = {"cell_type": "code", "execution_count": None, "id": "colab-setup",
             "metadata": _nbgrader_meta(SETUP_ID) if source else {}, "outputs": [],
             "source": setup_source(path, nb, proj)}
    nb["cells"] = cells[:t + 1] + [badge, setup] + cells[t + 1:]
    if nb.get("nbformat_minor", 0) < 5:
        for c in nb["cells"]:
            c.pop("id", None)
    return nb


def _as_lines(nb: dict) -> dict:
    "Sources as lists of lines, as Jupyter and nbdev-clean write them."
    for c in nb["cells"]:
        s = _src(c)
        c["source"] = s.splitlines(keepends=True)
    return nb


def write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(_as_lines(nb), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="*", type=Path, help="notebooks to handle (default: every one)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook lacks its cells")
    a = p.parse_args(argv)
    proj = project()
    paths = [q.resolve() for q in a.paths] or [p for p in notebooks() if a.check or kind(p) != "release"]
    bad, changed = [], []
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = problems(path, nb, proj)
        if a.check:
            bad += found
        elif found and kind(path) == "release":  # named on the command line: nbgrader writes these, not this script
            bad += [f"{f} (regenerate it: nbgrader generate_assignment {path.parent.name} --force "
                    f"&& nbdev-clean --fname exercises)" for f in found]
        elif found:
            write(path, fix(path, nb, proj))
            changed.append(path.relative_to(ROOT).as_posix())
    for c in changed:
        print(f"colab_cells: wrote {c}")
    if bad:
        print("\n".join(bad), file=sys.stderr)
        if a.check:
            print(f"colab_cells: {len(bad)} problem(s); fix: `{FIX}` (nbs/, solutions/), then regenerate exercises/ "
                  f"with `nbgrader generate_assignment NN_topic --force && nbdev-clean --fname exercises` "
                  f"(`make colab` does both)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
