"""Static checks of the committed notebooks: what a reader sees in Colab and on the docs site.

- every notebook under nbs/, solutions/ and exercises/ has its Colab badge and Colab install cell,
  for its own path and the current version (scripts/colab_cells.py writes them);
- every cell that draws with matplotlib has an image in its committed output;
- no committed output holds a progress bar (tqdm text such as " 0%|", or a Jupyter widget);
- no notebook forces the Hugging Face hubs offline (the Makefile and the tests do that, for CI only);
- the home page lists every lesson, and only lessons that exist;
- the repository's address is declared once, in pyproject.toml.

Nothing here executes a notebook: the whole file runs in about a second.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import colab_cells  # noqa: E402

NOTEBOOKS = colab_cells.notebooks(ROOT)
LESSON_NBS = [p for p in NOTEBOOKS if colab_cells.kind(p) == "lesson"]
OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


@cache
def load(p: Path) -> dict:
    return json.loads(p.read_text(encoding="utf-8"))


def src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def code_cells(nb: dict):
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def python_of(cell: dict) -> str:
    "A code cell as Python: IPython magics and shell escapes blanked (line numbers kept)."
    return "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in src(cell).splitlines())


def is_exported(cell: dict) -> bool:
    return bool(re.search(r"^\s*#\|\s*export", src(cell), re.M))


# ------------------------------------------------------------------ Colab

def test_every_notebook_has_its_colab_badge_and_install_cell():
    proj = colab_cells.project(ROOT)
    assert NOTEBOOKS, "no notebooks found"
    problems = [p for nb in NOTEBOOKS for p in colab_cells.problems(nb, load(nb), proj)]
    assert not problems, (
        f"{len(problems)} problem(s) with the Colab cells:\n" + "\n".join(problems)
        + f"\nFix: `{colab_cells.FIX}` (nbs/, solutions/), then regenerate exercises/ with "
        "`nbgrader generate_assignment NN_topic --force && nbdev-clean --fname exercises`; `make colab` does both.")


def test_colab_cells_are_right_and_idempotent(tmp_path):
    "The script's own output passes its check, running it twice changes nothing, and other cells stay as they were."
    proj = colab_cells.project(ROOT)
    lesson = {"cells": [
        {"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [], "source": "#| default_exp x"},
        {"cell_type": "markdown", "id": "b", "metadata": {}, "source": "# 07 · Title\n\n> what it is"},
        {"cell_type": "code", "execution_count": None, "id": "c", "metadata": {}, "outputs": [],
         "source": "import nbformat\nimport torch"},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = ROOT / "nbs" / "07_example.ipynb"   # never written: fix() and problems() only read the path
    assert colab_cells.problems(path, lesson, proj)
    once = colab_cells.fix(path, json.loads(json.dumps(lesson)), proj)
    assert colab_cells.problems(path, once, proj) == []
    assert colab_cells.fix(path, json.loads(json.dumps(once)), proj) == once
    assert [src(c) for c in once["cells"] if c["id"] in "abc"] == [src(c) for c in lesson["cells"]]
    badge, setup = src(once["cells"][2]), src(once["cells"][3])
    assert f"/blob/v{proj['version']}/nbs/07_example.ipynb)" in badge
    assert f"ftcourse[grading] @ git+{proj['url']}@v{proj['version']}" in setup  # imports nbformat: the grading extra
    assert 'if "google.colab" in sys.modules:' in setup
    # outside Colab the cell does nothing: it imports nothing but sys and starts no process
    ns: dict = {}
    exec(compile(setup, "colab-setup", "exec"), ns)
    assert "subprocess" not in ns
    # a solution's badge opens the release generated from it, never the solution
    sol = ROOT / "solutions" / "07_example" / "07_example.ipynb"
    assert "/exercises/07_example/07_example.ipynb)" in colab_cells.badge_source(sol, proj)
    # a stale version is reported
    stale = json.loads(json.dumps(once))
    stale["cells"][3]["source"] = setup.replace(f"@v{proj['version']}", "@v0.0.0")
    assert any("stale" in p for p in colab_cells.problems(path, stale, proj))


def test_colab_install_cell_runs_only_in_colab(tmp_path):
    "With `google.colab` imported, the install cell calls pip with the pinned spec (pip itself replaced by a recorder)."
    proj = colab_cells.project(ROOT)
    path = ROOT / "nbs" / "07_example.ipynb"
    nb = {"cells": [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": "# T"}], "metadata": {},
          "nbformat": 4, "nbformat_minor": 5}
    setup = colab_cells.setup_source(path, nb, proj)
    (tmp_path / "google").mkdir()
    (tmp_path / "google" / "colab.py").write_text("")
    probe = (f"import sys, subprocess; sys.path.insert(0, {str(tmp_path)!r}); import google.colab\n"
             "calls = []\nsubprocess.run = lambda cmd, **kw: calls.append(cmd)\n"
             f"exec({setup!r})\nprint(calls)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True).stdout
    assert f"ftcourse @ git+{proj['url']}@v{proj['version']}" in out and "'pip', 'install'" in out, out


# ------------------------------------------------------------------ plots, progress bars, offline mode

PLT_NOT_DRAWING = {"close", "ioff", "ion", "rc", "rcParams", "style", "switch_backend", "get_backend", "rcdefaults"}


def _pyplot_aliases(tree: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            names |= {a.asname or a.name for a in n.names if a.name == "matplotlib.pyplot"}
        elif isinstance(n, ast.ImportFrom) and n.module == "matplotlib" and any(a.name == "pyplot" for a in n.names):
            names |= {a.asname or "pyplot" for a in n.names if a.name == "pyplot"}
    return names


def _top_level_calls(tree: ast.AST):
    "Calls a cell makes when it runs: everything outside function, lambda and class bodies."
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(n, ast.Call):
            yield n
        stack.extend(ast.iter_child_nodes(n))


def _draws(call: ast.Call, plt: set[str], drawing_functions: set[str]) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in plt:
        return f.attr not in PLT_NOT_DRAWING
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return name in drawing_functions


def _parse(code: str):
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


@cache
def library_drawing_functions() -> frozenset[str]:
    "Functions of the ftcourse package that draw (their body calls pyplot)."
    out = set()
    for py in (ROOT / "ftcourse").glob("*.py"):
        tree = _parse(py.read_text(encoding="utf-8"))
        out |= _drawing_defs(tree, {"plt"}) if tree else set()
    return frozenset(out)


def _drawing_defs(tree: ast.AST, plt: set[str]) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for m in ast.walk(n):
                if isinstance(m, ast.Call) and isinstance(m.func, ast.Attribute) and isinstance(m.func.value, ast.Name) \
                        and m.func.value.id in plt and m.func.attr not in PLT_NOT_DRAWING:
                    out.add(n.name)
                    break
    return out


def drawing_cells(nb: dict) -> list[int]:
    "Indices of the code cells that draw a matplotlib figure when they run."
    trees = [(i, _parse(python_of(c))) for i, c in enumerate(nb.get("cells", [])) if c.get("cell_type") == "code"]
    plt = {"plt"}
    for _, t in trees:
        if t:
            plt |= _pyplot_aliases(t)
    drawing = set(library_drawing_functions())
    for _, t in trees:
        if t:
            drawing |= _drawing_defs(t, plt)
    out = []
    for i, t in trees:
        cell = nb["cells"][i]
        if t is None or re.search(r"^\s*#\|\s*(eval:\s*false|exec_doc)", src(cell), re.M):
            continue
        if any(_draws(c, plt, drawing) for c in _top_level_calls(t)):
            out.append(i)
    return out


def has_image(cell: dict) -> bool:
    return any(k.startswith("image/") for o in cell.get("outputs", []) for k in (o.get("data") or {}))


def test_plot_detection():
    "The detector finds drawing cells (pyplot calls, functions that draw) and leaves definitions and plain code alone."
    cells = [
        "import matplotlib.pyplot as plt",
        "def show(xs):\n    plt.plot(xs)\n    return plt.gca()",       # defines, does not draw
        "show([1, 2])",                                                 # calls a notebook function that draws
        "fig, ax = plt.subplots()\nax.plot([1])",                       # pyplot
        "x = [plt.rcParams]\nplt.close('all')",                          # no drawing
        "for k in range(2):\n    plt.figure()",                          # inside a loop still runs
        "plot_history([{'step': 1, 'loss': 1.0}])",                      # a library function that draws
        "%matplotlib inline\nprint(1)",
    ]
    nb = {"cells": [{"cell_type": "code", "source": s, "outputs": []} for s in cells]}
    assert "plot_history" in library_drawing_functions()
    assert drawing_cells(nb) == [2, 3, 5, 6]


@pytest.mark.parametrize("nb", [rel(p) for p in NOTEBOOKS if colab_cells.kind(p) != "release"])
def test_every_plot_is_in_the_output(nb):
    "A cell that draws has its image in the committed notebook (Colab's first view and the docs site show it)."
    cells = load(ROOT / nb)["cells"]
    missing = [i for i in drawing_cells(load(ROOT / nb)) if not has_image(cells[i])]
    assert not missing, (f"{nb}: {len(missing)} cell(s) draw but have no image output (cells "
                         + ", ".join(f"#{i}: {src(cells[i]).splitlines()[0][:60]!r}" for i in missing)
                         + "). Re-execute: `python scripts/execute_notebooks.py " + nb + "`")


PROGRESS = re.compile(r"\d{1,3}%\|")  # tqdm's bar: "  0%|", "100%|██████|"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _output_texts(cell: dict):
    for o in cell.get("outputs", []):
        if "text" in o:
            yield o["text"] if isinstance(o["text"], str) else "".join(o["text"])
        for k, v in (o.get("data") or {}).items():
            if k.startswith("text/"):
                yield v if isinstance(v, str) else "".join(v)


@pytest.mark.parametrize("nb", [rel(p) for p in NOTEBOOKS])
def test_no_progress_bars_in_outputs(nb):
    "A progress bar frozen in a committed output (tqdm text or a widget) says nothing to a reader."
    bad = []
    for i, c in enumerate(code_cells(load(ROOT / nb))):
        if any(WIDGET in (o.get("data") or {}) for o in c.get("outputs", [])):
            bad.append(f"code cell {i}: a Jupyter widget output")
        for t in _output_texts(c):
            if m := PROGRESS.search(t):
                bad.append(f"code cell {i}: progress bar text {t[max(0, m.start() - 20):m.end() + 10]!r}")
                break
    assert not bad, f"{nb}:\n  " + "\n  ".join(bad) + f"\nRe-execute with `python scripts/execute_notebooks.py {nb}` (it strips them)."


def sets_offline(code: str) -> list[str]:
    "Statements in `code` that set a Hugging Face offline variable (os.environ, os.putenv, %env, %set_env)."
    found = []
    for line in code.splitlines():
        if re.match(r"\s*%(set_)?env\s+(\w+)", line) and any(v in line for v in OFFLINE_VARS):
            found.append(line.strip())
    tree = _parse(python_of({"source": code}))
    for n in ast.walk(tree) if tree else ():
        text = ast.unparse(n) if isinstance(n, (ast.Assign, ast.AugAssign, ast.Call)) else ""
        if not any(v in text for v in OFFLINE_VARS):
            continue
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Subscript) and "environ" in ast.unparse(t.value) for t in n.targets):
            found.append(text)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and (
                (n.func.attr in ("setdefault", "update") and "environ" in ast.unparse(n.func.value)) or n.func.attr == "putenv"):
            found.append(text)
    return found


def test_offline_detection():
    assert sets_offline('os.environ["HF_HUB_OFFLINE"] = "1"')
    assert sets_offline('import os\nos.environ.setdefault("HF_DATASETS_OFFLINE", "1")')
    assert sets_offline('os.environ.update(HF_HUB_OFFLINE="1")')
    assert sets_offline("%env HF_HUB_OFFLINE=1")
    assert not sets_offline('print(os.environ.get("HF_HUB_OFFLINE"))')
    assert not sets_offline('os.environ["OTHER"] = "1"')


@pytest.mark.parametrize("nb", [rel(p) for p in NOTEBOOKS])
def test_no_notebook_forces_offline_mode(nb):
    """Colab learners use the hub: only the Makefile, the tests and the command line set HF_*_OFFLINE.
    Exported library code is the library's business (the CLI may set it); a lesson's own cells may not."""
    bad = [f"code cell {i}: {s}" for i, c in enumerate(code_cells(load(ROOT / nb))) if not is_exported(c)
           for s in sets_offline(src(c))]
    assert not bad, f"{nb} forces offline mode (delete these lines; `make` and pytest set it for CI):\n  " + "\n  ".join(bad)


# ------------------------------------------------------------------ the home page and the one address

def lessons() -> list[str]:
    "Lesson notebooks: nbs/NN_topic.ipynb (or NNx_topic) with NN below 90; 9x are reference chapters."
    return sorted(p.name for p in (ROOT / "nbs").glob("*.ipynb") if re.match(r"[0-8]\d[a-z]?_", p.name))


def test_home_page_lists_exactly_the_lessons():
    text = "\n".join(src(c) for c in load(ROOT / "nbs" / "index.ipynb")["cells"] if c.get("cell_type") == "markdown")
    linked = set(re.findall(r"\]\(([\w./-]+\.ipynb)\)", text))
    missing = [n for n in lessons() if n not in linked]
    dangling = sorted(l for l in linked if not (ROOT / "nbs" / l).is_file())
    assert lessons(), "no lessons in nbs/"
    assert not missing, f"nbs/index.ipynb does not list these lessons: {missing}"
    assert not dangling, f"nbs/index.ipynb links notebooks that do not exist: {dangling}"


def _project_urls() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]


def test_repository_address_is_declared_once():
    """pyproject.toml's [project.urls] is the one place the addresses are written; the docs build
    (nbdev.yml), the Colab cells and nbdev's generated module headers derive from it."""
    urls = _project_urls()
    repo, docs = urls["Repository"].rstrip("/"), urls.get("Documentation", "").rstrip("/")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    derived = {"pyproject.toml", "ftcourse/_modidx.py"}
    hits = []
    for f in files:
        p = ROOT / f
        if f in derived or f.startswith("ftcourse/") and f.endswith(".py") or not p.is_file() or p.suffix in (".safetensors", ".png", ".parquet"):
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if p.suffix == ".ipynb":  # the Colab cells are derived (and checked above)
            nb = json.loads(text)
            text = "\n".join(src(c) for c in nb.get("cells", [])
                             if not (colab_cells.is_badge(c) or colab_cells.is_setup(c)))
        for addr in filter(None, (repo, docs, repo.split("://", 1)[-1])):
            if addr in text:
                hits.append(f"{f}: {addr}")
                break
    assert not hits, ("the project's address is written outside pyproject.toml [project.urls] (derive it instead):\n  "
                      + "\n  ".join(hits))


# ------------------------------------------------------------------ the docs build

def _bound_names(tree: ast.AST) -> set[str]:
    "Names a piece of code binds anywhere: assignments, imports, defs, arguments, loop and `except` variables."
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.arg):
            out.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif isinstance(n, ast.MatchAs) and n.name:
            out.add(n.name)
    return out


def _module_names(tree: ast.Module) -> set[str]:
    "Names a cell binds at module level (what later cells can use): not the locals of its functions."
    out = set()
    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(st.name)
        else:
            out |= {n for n in _bound_names(st) if n not in
                    {a.arg for f in ast.walk(st) if isinstance(f, ast.Lambda) for a in f.args.args}}
    return out


def docs_step_failures(nb: dict) -> dict[int, list[str]]:
    """Cells that nbdev's docs step runs on their own and that would fail there: in a notebook that exports
    (so it gets API docs), nbdev executes the exported cells and every other cell holding an import, alone,
    to resolve names for `show_doc`. Such a cell fails (as `make docs` and nbdev-docs do) when it reads a name
    that neither it, the exported cells nor Python's builtins define. Returns {cell index: free names}."""
    import builtins

    cells = nb.get("cells", [])
    exported = [c for c in cells if c.get("cell_type") == "code" and is_exported(c)]
    if not exported:
        return {}
    known = set(dir(builtins)) | {"show_doc", "get_ipython", "display"}
    run_alone = []
    for i, c in enumerate(cells):
        if c.get("cell_type") != "code" or re.search(r"^\s*#\|\s*eval:\s*false", src(c), re.M):
            continue
        tree = _parse(python_of(c))
        if tree is None:
            continue
        if is_exported(c):
            known |= _module_names(tree)
        elif any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)):
            run_alone.append((i, tree))
            known |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                      if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    out = {}
    for i, tree in run_alone:
        free = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                      - _bound_names(tree) - known)
        if free:
            out[i] = free
    return out


def test_docs_step_detection():
    nb = {"cells": [{"cell_type": "code", "source": "#| export\ndef f(): pass"},
                    {"cell_type": "code", "source": "import os\nfrom pathlib import Path"},
                    {"cell_type": "code", "source": "x = f()"},                                        # not run alone
                    {"cell_type": "code", "source": "from IPython.display import Markdown\nMarkdown(f'{x}')"},
                    {"cell_type": "code", "source": "import math\nys = [math.sqrt(y) for y in range(3)]\nf(Path('.'))"},
                    {"cell_type": "code", "source": "#| eval: false\nimport os\nprint(x)"}]}
    assert docs_step_failures(nb) == {3: ["x"]}
    assert docs_step_failures({"cells": nb["cells"][1:]}) == {}   # nothing exported: no API docs, nothing run


@pytest.mark.parametrize("nb", [rel(p) for p in LESSON_NBS])
def test_cells_the_docs_step_runs_stand_alone(nb):
    cells = load(ROOT / nb)["cells"]
    bad = docs_step_failures(load(ROOT / nb))
    assert not bad, (f"{nb}: nbdev's docs step runs every cell that imports on its own, and these read names from "
                     "earlier cells (`make docs` and nbdev-docs stop there with a NameError); move their imports into "
                     "a cell of their own:\n  " + "\n  ".join(f"cell {i} ({src(cells[i]).splitlines()[0][:50]!r}): uses {', '.join(v)}"
                                                                for i, v in bad.items()))
