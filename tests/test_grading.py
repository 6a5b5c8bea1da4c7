"""The grading pipeline for real: release in sync, reference = full marks, blank = zero, wrong
implementations caught part by part, hostile submissions graded without crashing, and the self-check."""
import copy, json, os, re, runpy, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest
from ftcourse.grading import autograde, self_check, grade_folder

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())
NB = "04_lora.ipynb"
REGION = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION", re.S)


def _cells(nb):
    return [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader", {}), sort_keys=True)) for c in nb.cells]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_in_sync_with_source(assignment, tmp_path):
    "exercises/ equals a fresh `nbgrader generate_assignment` of solutions/."
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.source_directory = 'solutions'\n"
        f"c.CourseDirectory.release_directory = 'release'\nc.CourseDirectory.db_url = 'sqlite:///{tmp_path}/gb.db'\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n")
    shutil.copytree(SOLUTIONS / assignment, tmp_path / "solutions" / assignment)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment], cwd=tmp_path, env=env, check=True, capture_output=True)
    for fresh in (tmp_path / "release" / assignment).glob("*.ipynb"):
        committed = EXERCISES / assignment / fresh.name
        assert committed.exists(), f"{committed} missing: regenerate exercises/"
        assert _cells(nbformat.read(fresh, 4)) == _cells(nbformat.read(committed, 4)), \
            f"{committed} is out of date: run `nbgrader generate_assignment {assignment} --force` and `nbdev-clean --fname exercises`"


def wrong_cases(assignment: str) -> dict:
    "tests/wrong/<assignment>.py: {part: {name: edits}}, the wrong implementations each part must catch."
    path = Path(__file__).parent / "wrong" / f"{assignment}.py"
    assert path.exists(), f"{path} missing: every assignment lists wrong implementations its tests must catch"
    return runpy.run_path(str(path))["WRONG"]


CASES = [(a, part, name) for a in ASSIGNMENTS for part, vs in wrong_cases(a).items() for name in vs]


def variant(tmp_path: Path, name: str, edits: dict, tests: dict | None = None, assignment: str = "04_lora") -> Path:
    "The reference solution with solution regions of some cells replaced ({grade_id: code or [code per region]})."
    nb = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", 4)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edits:
            codes = edits[gid] if isinstance(edits[gid], list) else [edits[gid]]
            it = iter(codes)
            def sub(m):
                code = next(it, None)
                if code is None: return m.group(0)
                return "\n".join(m.group(1) + line for line in code.splitlines())
            c.source = REGION.sub(sub, c.source)
        if tests and gid in tests: c.source = tests[gid]
    p = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, p)
    return p


_GRADED: dict = {}


def graded(assignment: str, tmp_path_factory) -> dict:
    "One parallel autograde run per assignment over the reference, the blank release and every wrong variant (cached)."
    if assignment not in _GRADED:
        tmp = tmp_path_factory.mktemp(f"subs-{assignment}")
        nb = f"{assignment}.ipynb"
        subs = {"reference": SOLUTIONS / assignment / nb, "blank": EXERCISES / assignment / nb}
        for part, variants in wrong_cases(assignment).items():
            for name, edits in variants.items():
                subs[f"{part}-{name}"] = variant(tmp, f"{part}-{name}", edits, assignment=assignment)
        if assignment == "04_lora":   # hostile submissions, once
            subs["looper"] = variant(tmp, "looper", {"p3_solution": "while True:\n    pass"})
            subs["crasher"] = variant(tmp, "crasher", {"p4_solution": ["import os\nos._exit(1)", "return W_merged"]})
            subs["tamperer"] = variant(tmp, "tamperer", {"p1_solution": "return alpha * B @ A"}, tests={"p1_visible": "pass", "p1_hidden": "pass"})
        _GRADED[assignment] = autograde(assignment, subs, solutions=SOLUTIONS, workers=2, timeout=30)
    return _GRADED[assignment]


def part_score(result, part):
    return sum(s for gid, (s, m) in result["parts"].items() if gid.startswith(part + "_"))


def part_max(result, part):
    return sum(m for gid, (s, m) in result["parts"].items() if gid.startswith(part + "_"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_full_marks_blank_zero(assignment, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    ref = g["reference"]
    assert ref["error"] is None and ref["max_score"] >= 10 and ref["score"] == ref["max_score"]
    assert len({gid.split("_")[0] for gid in ref["parts"]}) >= 4
    assert g["blank"]["score"] == 0


@pytest.mark.parametrize("assignment,part,name", CASES)
def test_wrong_implementation_is_caught(assignment, part, name, tmp_path_factory):
    g = graded(assignment, tmp_path_factory)
    r = g[f"{part}-{name}"]
    assert r["error"] is None
    assert part_score(r, part) < part_max(r, part), f"{assignment} {part}-{name} scored full marks on {part}"
    assert r["score"] < g["reference"]["score"]


def test_hostile_submissions_are_graded(tmp_path_factory):
    g = graded("04_lora", tmp_path_factory)
    ref = g["reference"]
    loop = g["looper"]
    assert part_score(loop, "p3") == 0 and part_score(loop, "p1") == part_max(ref, "p1")   # a timeout costs that part only
    assert g["crasher"]["score"] < ref["score"]                                              # a dead kernel: graded, not fatal
    tam = g["tamperer"]
    assert part_score(tam, "p1") == 0 and part_score(tam, "p2") == part_max(ref, "p2")     # edited tests were restored


def test_grade_folder_writes_csv_and_leak_free_feedback(tmp_path):
    subs = tmp_path / "subs"; subs.mkdir()
    shutil.copy(SOLUTIONS / "04_lora" / NB, subs / "alice.ipynb")
    (subs / "bob").mkdir(); shutil.copy(EXERCISES / "04_lora" / NB, subs / "bob" / NB)
    res = grade_folder("04_lora", subs, out=tmp_path / "grades", solutions=SOLUTIONS)
    assert res["alice"]["score"] == res["alice"]["max_score"] and res["bob"]["score"] == 0
    rows = (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,score,max_score") and len(rows) == 3
    fb = (tmp_path / "grades" / "feedback" / "bob.md").read_text()
    assert "p1_hidden" in fb and "HIDDEN" not in fb and "assert" not in fb


# --- the learner's self-check ---------------------------------------------------------------------

def test_self_check_reference_and_blank():
    rep = self_check(SOLUTIONS / "04_lora" / NB)
    assert rep.passed and rep.score == rep.max_score > 0
    rep = self_check(EXERCISES / "04_lora" / NB)
    assert not rep.passed and rep.score == 0
    assert {p.status for p in rep.parts} == {"failed", "hidden"}
    assert "NotImplementedError" in str(rep) and "| p1_visible |" in rep._repr_markdown_()


def test_self_check_points_at_the_failing_part(tmp_path):
    rep = self_check(variant(tmp_path, "w", wrong_cases("04_lora")["p3"]["no_scale"]))
    status = {p.grade_id: p.status for p in rep.parts}
    assert status["p3_visible"] == "failed" and status["p1_visible"] == status["p4_visible"] == "passed"
    assert "alpha/r" in next(p.message for p in rep.parts if p.grade_id == "p3_visible")


def test_self_check_flags_edited_tests(tmp_path):
    nb = nbformat.read(EXERCISES / "04_lora" / NB, 4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "p1_visible": c.source = "pass"
    p = tmp_path / "edited.ipynb"; nbformat.write(nb, p)
    rep = self_check(p)
    edited = next(x for x in rep.parts if x.grade_id == "p1_visible")
    assert edited.changed and not rep.passed and "edited" in str(rep)


def test_self_check_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"): self_check(tmp_path / "nope.ipynb")
    bad = tmp_path / "bad.ipynb"; bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"): self_check(bad)
    with pytest.raises(ValueError, match="not an exercise"): self_check(ROOT / "nbs" / "00_core.ipynb")
