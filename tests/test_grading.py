"""The grading pipeline for real: the release in sync with the source, probes that catch every wrong
implementation and accept every right one, the reference = full marks and the blank release = zero in the
sandbox, a cohort of hostile submissions graded beside honest ones (each attack with its expected score,
the honest students unaffected), the nbgrader records, sharding and merging, and the learner's self-check."""
import hashlib, http.server, json, os, runpy, shutil, sqlite3, subprocess, sys, threading, time
from pathlib import Path
import pytest
import ftcourse.grading as grading
from ftcourse.grading import (Assignment, Limits, compare, encode, find_current_notebook, find_submissions, grade_submissions,
                              nbgrader_checksum, probe_variants, read_notebook, replace_solutions, sandbox_problem, self_check, split_hidden)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
       "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
FAST = Limits(cell_timeout=5, wall_timeout=120, total_timeout=400, memory=4 * 2**30)   # CPU seconds per cell: an honest cell needs < 2


def need_sandbox():
    if (why := sandbox_problem()) is not None:
        pytest.fail(f"cohort grading is sandboxed and the sandbox is unavailable: {why}. `make sandbox` installs bubblewrap")


def notebook(assignment: str, edits: dict | None = None, release: bool = False) -> dict:
    "The reference (or the release) with solution regions replaced: {grade_id: code, or [code per region]}."
    nb = read_notebook((EXERCISES if release else SOLUTIONS) / assignment / f"{assignment}.ipynb")
    return replace_solutions(nb, edits) if edits else nb


def save(nb: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def add_cell(nb: dict, code: str, at: int | None = None) -> dict:
    cell = {"cell_type": "code", "metadata": {}, "source": code, "outputs": [], "execution_count": None}
    nb["cells"].insert(len(nb["cells"]) if at is None else at, cell)
    return nb


def variants(assignment: str, kind: str) -> dict:
    "tests/<kind>/<assignment>.py: {part: {name: edits}} (kind: wrong or right)."
    path = Path(__file__).parent / kind / f"{assignment}.py"
    assert path.exists(), f"{path} missing: every assignment lists {kind} implementations for its probes"
    return runpy.run_path(str(path))[kind.upper()]


def part_points(result: dict, part: str) -> tuple:
    cells = [c for c in result["cells"].values() if c["part"] == part]
    return sum(c["score"] for c in cells), sum(c["points"] for c in cells)


# --- the release ----------------------------------------------------------------------------------

def _cells(nb):
    return [(c["cell_type"], "".join(c["source"]), json.dumps(c.get("metadata", {}).get("nbgrader", {}), sort_keys=True)) for c in nb["cells"]]


def test_release_is_in_sync_with_source(tmp_path, monkeypatch):
    "exercises/ equals a fresh `nbgrader generate_assignment` of solutions/, and its test cells are the visible parts the grader runs."
    shutil.copytree(SOLUTIONS, tmp_path / "source")
    monkeypatch.setenv("PATH", ENV["PATH"])
    api = grading.nbgrader_api(tmp_path)
    for assignment in ASSIGNMENTS:
        r = api.generate_assignment(assignment, force=True)
        assert r["success"], r.get("log")
        fresh = read_notebook(tmp_path / "release" / assignment / f"{assignment}.ipynb")
        committed = EXERCISES / assignment / f"{assignment}.ipynb"
        assert _cells(fresh) == _cells(read_notebook(committed)), \
            f"{committed} is out of date: run `nbgrader generate_assignment {assignment} --force` and `nbdev-clean --fname exercises`"
        a = Assignment.from_source(SOLUTIONS, assignment)
        released = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in fresh["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
        assert {c.grade_id: c.code.strip() for c in a.graded} == {g: s.strip() for g, s in released.items()}
        assert len(a.parts) >= 4 and a.max_score >= 10


# --- the probes: every wrong implementation caught on its part, every right one accepted ------------

_PROBED: dict = {}


def probed(assignment: str) -> dict:
    "One process per assignment scores the reference, the blank release, every wrong and every right variant (cached)."
    if assignment not in _PROBED:
        nbs = {"blank": notebook(assignment, release=True)}
        for kind in ("wrong", "right"):
            for part, vs in variants(assignment, kind).items():
                for name, edits in vs.items(): nbs[f"{kind}:{part}:{name}"] = notebook(assignment, edits)
        _PROBED[assignment] = probe_variants(Assignment.from_source(SOLUTIONS, assignment), nbs, Limits(cell_timeout=30))
    return _PROBED[assignment]


CASES = {kind: [(a, p, n) for a in ASSIGNMENTS for p, vs in variants(a, kind).items() for n in vs] for kind in ("wrong", "right")}


@pytest.mark.parametrize("assignment,part,name", CASES["wrong"])
def test_probes_catch_wrong_implementation(assignment, part, name):
    r = probed(assignment)[f"wrong:{part}:{name}"]
    score, points = part_points(r, part)
    assert score < points, f"{assignment} {part} wrong implementation {name!r} scored full marks on {part}"


@pytest.mark.parametrize("assignment,part,name", CASES["right"])
def test_probes_accept_right_implementation(assignment, part, name):
    r = probed(assignment)[f"right:{part}:{name}"]
    lost = {g: c["failed_probes"] for g, c in r["cells"].items() if c["score"] < c["points"]}
    assert r["score"] == r["max_score"] and not r["cell_errors"], f"{assignment} right implementation {name!r} lost points: {lost} {r['cell_errors']}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_probes_reference_full_blank_zero(assignment):
    r = probed(assignment)
    assert r["__reference__"]["score"] == r["__reference__"]["max_score"] and r["blank"]["score"] == 0


# --- the sandboxed pipeline on every assignment ---------------------------------------------------

def test_every_assignment_in_the_sandbox(tmp_path):
    "Through the real sandbox: the reference earns full marks (its probes are deterministic), the blank release zero."
    need_sandbox()
    for a in ASSIGNMENTS:
        subs = {"reference": save(notebook(a), tmp_path / a / "reference.ipynb"), "blank": EXERCISES / a / f"{a}.ipynb"}
        res, ref = grade_submissions(Assignment.from_source(SOLUTIONS, a), subs, workers=2, limits=FAST, progress=False)
        assert res["reference"]["score"] == res["reference"]["max_score"] >= 10 and res["reference"]["error"] is None, (a, res["reference"])
        assert res["blank"]["score"] == 0 and res["blank"]["error"] is None, (a, res["blank"])
        assert all(c["status"] == "ok" for c in ref["cells"]), a


# --- a hostile cohort ------------------------------------------------------------------------------

MARKER = "ftcourse-detached-7f3a"
ALL_WRONG = {"p1_solution": ["return alpha * B @ A", "return r * (d + k)"],
             "p2_solution": "return torch.randn(r, in_features, generator=generator), torch.zeros(out_features, r)",
             "p3_solution": "return F.linear(x, W, b) + F.linear(F.linear(x, A), B)",
             "p4_solution": ["return W + B @ A", "return W_merged - B @ A"],
             "p5_solution": "LoRALinear = BuggyLoRALinear"}


def hostile_cohort(folder: Path, out: Path) -> dict:
    "Honest students and attackers in one folder; returns student -> expected score (None: an explicit error)."
    a, sol = "04_lora", SOLUTIONS / "04_lora" / "04_lora.ipynb"
    ref, blank = (lambda: notebook(a)), (lambda: notebook(a, release=True))
    gb = out / "course" / "gradebook.db"
    expect = {}
    def put(name, nb, score, sub=None):
        save(nb, folder / (f"{name}/{sub}" if sub else f"{name}.ipynb")); expect[name] = score
    # honest students, including odd file names
    put("honest", ref(), 16)
    put("ann marie", ref(), 16)
    put("o.brien", ref(), 16)
    put("zoë", ref(), 16, sub="04_lora.ipynb")
    put("honest_warnings", add_cell(notebook(a, {"p3_solution": "import warnings, sys\nwarnings.warn('a harmless library warning', UserWarning)\n"
                                                                "print('progress to stderr', file=sys.stderr)\n"
                                                                "return F.linear(x, W, b) + (alpha / A.shape[0]) * F.linear(F.linear(x, A), B)"}),
                                    "import warnings, sys\nwarnings.warn('deprecated', DeprecationWarning)\nprint('note', file=sys.stderr)", 1), 16)
    # the score is decided outside: patched comparisons, disabled asserts, a copied reference
    put("monkeypatch", add_cell(notebook(a, ALL_WRONG), "import torch, builtins, math\n"
        "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\ntorch.Tensor.__eq__ = lambda *a, **k: True\n"
        "torch.count_nonzero = lambda *a, **k: 0\nmath.isclose = lambda *a, **k: True\nbuiltins.AssertionError = type('Never', (Exception,), {})", 1), 0)
    put("assert_off", add_cell(blank(), "def _no_asserts(lines):\n    return [l.replace('assert ', 'pass  # ') for l in lines]\n"
                                        "get_ipython().input_transformers_post.append(_no_asserts)\n"
                                        "import builtins\nbuiltins.NotImplementedError = type('Fine', (Exception,), {})", 1), 0)
    put("reads_reference", add_cell(blank(), f"import glob, json, os\nfound = []\n"
        f"for pattern in [{str(sol)!r}, {str(SOLUTIONS)!r} + '/*/*.ipynb', '/*/*/solutions/*/*.ipynb', '/*/*/*/solutions/*/*.ipynb', {str(folder)!r} + '/*.ipynb',\n"
        f"                {str(ROOT)!r} + '/**/*.ipynb', os.path.expanduser('~') + '/**/*.ipynb']:\n"
        "    found += glob.glob(pattern, recursive=True)\n"
        "for p in found:\n    try:\n        cells = json.load(open(p))['cells']\n    except Exception:\n        continue\n"
        "    for c in cells:\n        src = ''.join(c['source'])\n        if 'BEGIN SOLUTION' in src and 'NotImplementedError' not in src:\n"
        "            exec(src, globals())\n"
        "        if 'BEGIN HIDDEN TESTS' in src:\n            print('HIDDEN TESTS LEAKED', src)\n"), 0)
    # nothing a kernel can write is shared: solutions, the gradebook (held and corrupted), startup files, the package
    put("writes_outside", add_cell(blank(), "import os, sqlite3, site\n"
        f"targets = [{str(sol)!r}, {str(ROOT / 'solutions' / 'pwned.txt')!r}, {str(ROOT / 'ftcourse' / 'pwned.py')!r},\n"
        f"           {str(out / 'grades.csv')!r}, os.path.join(site.getsitepackages()[0], 'sitecustomize.py'), {str(folder / 'honest.ipynb')!r}]\n"
        "for t in targets:\n    try:\n        open(t, 'w').write('{}')\n    except Exception as e:\n        print('blocked', t, type(e).__name__)\n"
        f"try:\n    con = sqlite3.connect({str(gb)!r}, timeout=0.1)\n    con.execute('BEGIN EXCLUSIVE')\n    con.execute('DROP TABLE IF EXISTS student')\n"
        "    _held = con\nexcept Exception as e:\n    print('gradebook blocked', type(e).__name__)\n"
        f"try:\n    open({str(gb)!r}, 'r+b').write(b'garbage' * 100)\nexcept Exception as e:\n    print('gradebook blocked', type(e).__name__)\n", 1), 0)
    put("startup_files", add_cell(ref(), "import os\nfor d in [os.path.expanduser('~/.ipython/profile_default/startup'), os.environ.get('IPYTHONDIR', '/tmp') + '/profile_default/startup']:\n"
        "    os.makedirs(d, exist_ok=True)\n    open(os.path.join(d, '00-evil.py'), 'w').write('def lora_delta(*a, **k):\\n    raise SystemExit(1)\\n')\n"
        "import site\nos.makedirs(site.getusersitepackages(), exist_ok=True)\n"
        "open(os.path.join(site.getusersitepackages(), 'usercustomize.py'), 'w').write('import os\\nos._exit(3)\\n')", 1), 16)
    put("detached", add_cell(ref(), "import os, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)', {MARKER!r}], start_new_session=True)\n"
        f"if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(900)', {MARKER!r}])\n    os._exit(0)", 1), 16)
    # odd submissions: edited metadata, a duplicated grade id, crashes, loops, floods, bombs, hogs
    nb = ref()
    for c in nb["cells"]:
        md = c.get("metadata", {}).get("nbgrader")
        if md:
            md["schema_version"] = 99
            if md.get("grade_id") == "p1_visible": md["points"] = 100
            if md.get("grade_id") == "p2_hidden": md["grade"] = False
    dup = next(i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "p4_solution")
    nb["cells"].insert(dup + 1, {**json.loads(json.dumps(nb["cells"][dup])), "source": "def merge(W, A, B, alpha):\n    return W + B @ A"})
    put("metadata", nb, 13)
    put("looper", notebook(a, {"p3_solution": "while True:\n    pass"}), 12)
    put("crasher", notebook(a, {"p4_solution": ["import os\nos._exit(1)", "return W_merged"]}), 13)
    put("flood", add_cell(ref(), "import os\nprint('x' * 10**8)\nfor _ in range(200):\n    os.write(1, b'y' * 10**6)", 1), 16)
    put("fork_bomb", add_cell(ref(), "import os, time\nchildren = []\ntry:\n    while True:\n        pid = os.fork()\n        if pid == 0:\n"
                                     "            if len(children) < 2:\n                while True: pass\n            time.sleep(900)\n            os._exit(0)\n"
                                     "        children.append(pid)\nexcept OSError as e:\n    print('fork refused after', len(children), e)", 1), 16)
    put("fork_bomb_naive", add_cell(ref(), "import os\nwhile True:\n    os.fork()", 1), 16)
    put("memory_hog", add_cell(ref(), "hog = []\ntry:\n    while True:\n        hog.append(bytearray(256 * 2**20))\n"
                                      "except MemoryError:\n    print('refused after', len(hog) // 4, 'GiB')\ndel hog\nbig = bytearray(10**12)", 1), 16)
    # folders the grader must not guess about
    save(ref(), folder / "twice" / "a.ipynb"); save(ref(), folder / "twice" / "b.ipynb"); expect["twice"] = None
    (folder / "garbled.ipynb").write_text("{not a notebook"); expect["garbled"] = None
    return expect


def marker_processes() -> list:
    found = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and MARKER in (p / "cmdline").read_bytes().decode(errors="replace"): found.append(p.name)
        except OSError: pass
    return found


HOSTILE = {"honest": 16, "ann marie": 16, "o.brien": 16, "zoë": 16, "honest_warnings": 16, "monkeypatch": 0, "assert_off": 0,
           "reads_reference": 0, "writes_outside": 0, "startup_files": 16, "detached": 16, "metadata": 13, "looper": 12, "crasher": 13,
           "flood": 16, "fork_bomb": 16, "fork_bomb_naive": 16, "memory_hog": 16, "twice": None, "garbled": None}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    "One sandboxed cohort: honest students and every attack of the issue, graded by the `ftcourse` command from another folder."
    need_sandbox()
    tmp = tmp_path_factory.mktemp("hostile")
    folder, out, cwd = tmp / "submissions", tmp / "out", tmp / "elsewhere"
    cwd.mkdir()
    (out / "course").mkdir(parents=True)
    sqlite3.connect(out / "course" / "gradebook.db").execute("CREATE TABLE student (id TEXT)").connection.commit()  # last term's records
    expect = hostile_cohort(folder, out)
    assert expect == HOSTILE
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in [*SOLUTIONS.rglob("*"), *folder.rglob("*")] if p.is_file()}
    cgroups = set(Path("/sys/fs/cgroup").glob("*/ftcourse-grade-*"))
    t0 = time.monotonic()
    r = subprocess.run([str(BIN / "ftcourse"), "grade", "04_lora", str(folder), "--solutions", str(SOLUTIONS), "--out", str(out),
                        "--workers", "2", "--timeout", str(FAST.cell_timeout)], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)
    results = json.loads((out / "results.json").read_text())["students"]
    print(f"\nhostile cohort: {len(expect)} students in {time.monotonic() - t0:.0f} s\n" + "\n".join(
        f"  {s:16s} {r['score']:>3g}/16  {r.get('seconds', 0):5.1f} s  {r.get('restarts', 0)} restarts  {r['error'] or ''}" for s, r in results.items()))
    return {"run": r, "results": results, "out": out, "folder": folder, "before": before,
            "new cgroups": set(Path("/sys/fs/cgroup").glob("*/ftcourse-grade-*")) - cgroups}


@pytest.mark.parametrize("student", list(HOSTILE))
def test_hostile_case(hostile, student):
    "Each attack earns what its code earns (not more), each honest student full marks, each odd folder an explicit error."
    r, want = hostile["results"][student], HOSTILE[student]
    if want is None: assert r["error"] and r["score"] == 0, r
    else: assert (r["score"], r["error"]) == (want, None), {g: (c["score"], c["failed_probes"]) for g, c in r["cells"].items()}


def test_hostile_cohort_leaves_nothing_behind(hostile):
    "Nothing outside the sandboxes changed, no process outlived its sandbox, and the command names who it could not grade."
    before = hostile["before"]
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}
    assert not (ROOT / "solutions" / "pwned.txt").exists() and not (ROOT / "ftcourse" / "pwned.py").exists()
    assert marker_processes() == [] and hostile["new cgroups"] == set()
    r, results = hostile["run"], hostile["results"]
    assert r.returncode == 1 and "twice" in r.stderr and "garbled" in r.stderr and "honest" not in r.stderr, r.stderr[-2000:]
    assert "holds 2 notebooks" in results["twice"]["error"] and "not a readable Jupyter notebook" in results["garbled"]["error"]


def test_hostile_cohort_records(hostile):
    "One row per student with a column per part, feedback without hidden code, and a gradebook nbgrader itself can use."
    out = hostile["out"]
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "student,p1,p2,p3,p4,p5,total,max_score,error" and len(rows) == len(HOSTILE) + 1
    fb = (out / "feedback" / "looper.md").read_text(encoding="utf-8")
    assert "p3_hidden" in fb and "@probe" not in fb and "def " not in fb and "Traceback" not in fb
    leak = (out / "feedback" / "reads_reference.md").read_text(encoding="utf-8")
    assert "HIDDEN TESTS LEAKED" not in leak and "NotImplementedError" in leak
    course = out / "course"
    with sqlite3.connect(course / "gradebook.db") as con:
        graded = dict(con.execute("SELECT student.id, SUM(grade.auto_score) FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                                  "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
                                  "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"))
    assert graded == {s: float(v) for s, v in HOSTILE.items() if v is not None}
    for s in ("honest", "ann marie", "zoë"): assert (course / "autograded" / s / "04_lora" / "04_lora.ipynb").is_file()
    auto = (course / "autograded" / "looper" / "04_lora" / "04_lora.ipynb").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in auto and "@probe" not in auto
    r = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", "04_lora", "--student", "looper"], cwd=course, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    html = (course / "feedback" / "looper" / "04_lora" / "04_lora.html").read_text(encoding="utf-8")
    assert "p3_hidden" in html and "@probe" not in html
    r = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course, env=ENV, capture_output=True, text=True)
    assert r.returncode == 0 and "looper" in (course / "grades.csv").read_text(encoding="utf-8")


# --- shards, merge, Slurm and Kubernetes ----------------------------------------------------------

def test_shards_merge_and_cluster_files(tmp_path):
    "The Slurm array script and the Kubernetes Job run here as each cluster would run them (one shard each), then merge."
    need_sandbox()
    import yaml
    subs = tmp_path / "subs"
    save(notebook("05_qlora"), subs / "alice.ipynb"); save(notebook("05_qlora", release=True), subs / "bob.ipynb")
    save(notebook("05_qlora", variants("05_qlora", "wrong")["p4"]["codes_only"]), subs / "carol.ipynb")
    env = {**ENV, "ASSIGNMENT": "05_qlora", "SUBMISSIONS": str(subs), "SOLUTIONS": str(SOLUTIONS), "OUT": str(tmp_path / "grades"),
           "SHARDS": "2", "TIMEOUT": "20"}
    script = ROOT / "scripts" / "grading" / "grade_shard.slurm"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    r = subprocess.run(["bash", str(script)], env={**env, "SLURM_ARRAY_TASK_ID": "1"}, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    job = yaml.safe_load((ROOT / "scripts" / "grading" / "grade-job.yaml").read_text())
    spec = job["spec"]
    container = spec["template"]["spec"]["containers"][0]
    k8s_env = {e["name"]: e["value"] for e in container["env"]}
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == int(k8s_env["SHARDS"])
    r = subprocess.run(container["command"], env={**ENV, **k8s_env, **env, "JOB_COMPLETION_INDEX": "1"}, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    shards = sorted((tmp_path / "grades").glob("shard-*"))
    assert [json.loads((d / "results.json").read_text())["shard"] for d in shards] == [[1, 2], [2, 2]]
    r = subprocess.run([str(BIN / "ftcourse"), "grade", "05_qlora", "--merge", *map(str, shards), "--out", str(tmp_path / "all")],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "all" / "results.json").read_text())["students"]
    assert {s: r["score"] for s, r in res.items()} == {"alice": 16, "bob": 0, "carol": 13}
    assert {p.name for p in (tmp_path / "all" / "course" / "autograded").iterdir()} == {"alice", "bob", "carol"}
    r = subprocess.run([str(BIN / "ftcourse"), "grade", "05_qlora", "--merge", str(shards[0]), "--out", str(tmp_path / "half")],
                       env=ENV, capture_output=True, text=True)
    assert r.returncode == 2 and "do not cover 1..n" in r.stderr


# --- the parts a cohort run builds on -------------------------------------------------------------

def test_submissions_are_found_or_refused_by_name(tmp_path):
    (tmp_path / "a b.ipynb").write_text("{}"); (tmp_path / "x.y.z.ipynb").write_text("{}")
    (tmp_path / "dup.ipynb").write_text("{}"); (tmp_path / "dup").mkdir(); (tmp_path / "dup" / "n.ipynb").write_text("{}")
    (tmp_path / "deep" / "04_lora" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "deep" / "04_lora" / "n.ipynb").write_text("{}"); (tmp_path / "deep" / "04_lora" / ".ipynb_checkpoints" / "n-checkpoint.ipynb").write_text("{}")
    (tmp_path / "empty").mkdir()
    subs = find_submissions(tmp_path)
    assert subs["a b"].name == "a b.ipynb" and subs["x.y.z"].name == "x.y.z.ipynb" and subs["deep"].name == "n.ipynb"
    assert "two submissions" in subs["dup"] and "no notebook" in subs["empty"]
    with pytest.raises(ValueError, match="workers"): grading.grade_folder("04_lora", tmp_path, workers=0, solutions=SOLUTIONS)
    r = subprocess.run([str(BIN / "ftcourse"), "grade", "04_lora", str(tmp_path), "--workers", "-1"], env=ENV, capture_output=True, text=True)
    assert r.returncode == 2 and "--workers" in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(ValueError, match="i/n"): grading.parse_shard("3/2")


def test_sandbox_unavailable_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "bubblewrap" in sandbox_problem()
    with pytest.raises(RuntimeError, match="bubblewrap"): grading.Sandbox()


def test_comparison_tolerances_and_kinds():
    import numpy as np, torch
    x = torch.randn(64, 64, generator=torch.Generator().manual_seed(0))
    assert compare(encode(x), encode(x * (1 + 3e-7))) is None                       # an equivalent formula, last bits
    assert "values differ" in compare(encode(x), encode(x * (1 + 1e-3)))
    assert "dtype" in compare(encode(x), encode(x.double()))
    assert "shape" in compare(encode(x), encode(x.T.contiguous()[:63]))
    assert compare(encode(x.double()), encode(x.double() + 1e-10)) is not None     # float64 is held to float64's precision
    assert compare(encode(x.bfloat16()), encode((x * 1.004).bfloat16())) is None     # bfloat16 to bfloat16's
    nan = torch.tensor([1.0, float("nan"), float("inf")])
    assert compare(encode(nan), encode(nan.clone())) is None and compare(encode(nan), encode(torch.tensor([1.0, 2.0, float("inf")]))) is not None
    assert compare(encode(grading.unordered(["b", "a", "a"])), encode(["a", "a", "b"])) is None
    assert compare(encode(grading.unordered(["b", "a", "a"])), encode(["a", "b"])) is not None
    assert compare(encode({"a", "b"}), encode({"b", "a"})) is None and compare(encode((1, 2)), encode([1, 2])) is None
    assert compare(encode(grading.close(1.0, rtol=1e-3)), encode(1.0005)) is None
    assert compare(encode(1.0), encode(grading.close(1.0005, rtol=1))) is not None   # the learner's own tolerance is ignored
    assert compare(encode(3), encode(3.0)) is not None and compare(encode(True), encode(1)) is not None
    assert compare(encode(np.float64(0.5)), encode(0.5)) is None
    forged = {"t": "tensor", "dtype": "float32", "shape": [1 << 40], "data": ""}
    assert "shape" in compare(encode(torch.zeros(3)), forged)
    with pytest.raises(TypeError, match="plain data"): encode(torch.nn.Linear(2, 2))


def test_hidden_regions_split_like_nbgrader():
    src = "assert f(1) == 2\n### BEGIN HIDDEN TESTS\n@probe\ndef p(nb):\n    return 1\n### END HIDDEN TESTS\n"
    visible, hidden = split_hidden(src)
    assert visible == "assert f(1) == 2\n" and "@probe" in hidden and "BEGIN" not in hidden


# --- the learner's self-check ---------------------------------------------------------------------

def test_self_check_reference_and_blank():
    rep = self_check(SOLUTIONS / "04_lora" / "04_lora.ipynb")
    assert rep.passed and rep.score == rep.max_score == 5 and rep.hidden_points == 11
    rep = self_check(EXERCISES / "04_lora" / "04_lora.ipynb")
    assert not rep.passed and rep.score == 0 and rep.hidden_points == 11
    assert {p.status for p in rep.parts} == {"failed", "hidden"}
    assert "NotImplementedError" in str(rep) and "| p1_hidden | 2 | … hidden |" in rep._repr_markdown_()
    assert "11 more points in hidden tests" in str(rep)


def test_self_check_points_at_the_failing_part_without_ipython(tmp_path):
    nb = save(notebook("04_lora", variants("04_lora", "wrong")["p3"]["no_scale"], release=False), tmp_path / "w.ipynb")
    rep = self_check(nb, use_ipython=False)
    status = {p.grade_id: p.status for p in rep.parts}
    assert status["p3_visible"] == "failed" and status["p1_visible"] == status["p4_visible"] == "passed"
    assert "output = x W^T + b" in next(p.message for p in rep.parts if p.grade_id == "p3_visible")


def test_self_check_flags_edited_tests_and_bad_input(tmp_path):
    nb = read_notebook(EXERCISES / "04_lora" / "04_lora.ipynb")
    for c in nb["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "p1_visible": c["source"] = "pass"
    rep = self_check(save(nb, tmp_path / "edited.ipynb"))
    edited = next(x for x in rep.parts if x.grade_id == "p1_visible")
    assert edited.changed and not rep.passed and "edited" in str(rep)
    with pytest.raises(FileNotFoundError, match="no such notebook"): self_check(tmp_path / "nope.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"): self_check(tmp_path / "bad.ipynb")
    with pytest.raises(ValueError, match="not an exercise"): self_check(ROOT / "nbs" / "00_core.ipynb")


def test_self_check_needs_nothing_beyond_a_plain_install(tmp_path):
    "With nbformat, nbclient, nbgrader, jupyter_client and IPython impossible to import (a plain `pip install`), the self-check works."
    blocked = ("nbformat", "nbclient", "nbgrader", "jupyter_client", "ipykernel", "IPython", "traitlets")
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _Block:\n    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}: raise ImportError('not installed: ' + name)\n"
        "sys.meta_path.insert(0, _Block())\n")
    code = ("from ftcourse.grading import self_check\nimport sys\nrep = self_check(sys.argv[1])\n"
            f"assert not any(m.split('.')[0] in {blocked!r} for m in sys.modules)\nprint(rep.score, rep.max_score, rep.hidden_points)")
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    r = subprocess.run([sys.executable, "-c", code, str(EXERCISES / "05_qlora" / "05_qlora.ipynb")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and [float(v) for v in r.stdout.split()] == [0, 5, 11], r.stderr[-2000:]


def test_checksums_match_nbgrader():
    from nbgrader.utils import compute_checksum
    import nbformat
    for a in ASSIGNMENTS:
        for c in nbformat.read(EXERCISES / a / f"{a}.ipynb", 4).cells:
            if "nbgrader" in c.metadata and "checksum" in c.metadata.nbgrader:
                assert nbgrader_checksum(c) == compute_checksum(c) == c.metadata.nbgrader.checksum


def test_find_current_notebook_in_each_front_end(tmp_path, monkeypatch):
    nb = tmp_path / "ex.ipynb"; nb.write_text("{}")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setattr(grading, "_kernel_id", lambda: None)
    class Shell:
        user_ns: dict = {}
    import IPython
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    Shell.user_ns = {"__vsc_ipynb_file__": str(nb)}                                  # VS Code
    assert find_current_notebook() == nb.resolve()
    Shell.user_ns = {}
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))                                  # JupyterLab, Notebook 7 (jupyter_server >= 2)
    assert find_current_notebook() == nb.resolve()
    monkeypatch.delenv("JPY_SESSION_NAME")
    sessions = json.dumps([{"kernel": {"id": "k-123"}, "notebook": {"path": "ex.ipynb"}}]).encode()
    class Handler(http.server.BaseHTTPRequestHandler):                               # classic Notebook: the server's sessions API
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(sessions if self.path.startswith("/api/sessions") else b"[]")
        def log_message(self, *a): pass
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(grading, "_kernel_id", lambda: "k-123")
        monkeypatch.setattr(grading, "_running_servers", lambda: [{"url": f"http://127.0.0.1:{srv.server_port}/", "token": "t", "notebook_dir": str(tmp_path)}])
        assert find_current_notebook() == nb.resolve()
    finally: srv.shutdown()
    monkeypatch.setattr(grading, "_kernel_id", lambda: None)
    import types                                                                     # Colab: the front end sends the notebook
    colab, message = types.ModuleType("google.colab"), types.ModuleType("google.colab._message")
    message.blocking_request = lambda kind, timeout_sec: {"ipynb": {"cells": [], "nbformat": 4}}
    colab._message = message
    monkeypatch.setitem(sys.modules, "google.colab", colab); monkeypatch.setitem(sys.modules, "google.colab._message", message)
    assert json.loads(find_current_notebook().read_text())["cells"] == []
    monkeypatch.delitem(sys.modules, "google.colab")
    with pytest.raises(RuntimeError, match="pass its path"): find_current_notebook()
    monkeypatch.delenv("FTCOURSE_SELF_CHECK", raising=False)
    assert grading.check() is None                                                   # outside a notebook: says how, no traceback
