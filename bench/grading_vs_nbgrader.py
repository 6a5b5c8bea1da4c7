"""Cohort grading: `ftcourse grade` (every notebook in its own bubblewrap sandbox, `--workers` at a time, hidden
tests as probes compared outside, an nbgrader course folder written) against serial `nbgrader autograde` of the
same submissions (the notebooks and their hidden tests run in each student's own kernel, unsandboxed).

The cohort is a copy of assignment 04_lora's reference, its blank release and wrong implementations from
tests/wrong/, N notebooks in all. For the nbgrader run the probes execute in the student's kernel (an IPython
startup file defines `probe` to call each probe on the notebook's names), so both graders run the same cells and
the same hidden-test code on the same submissions; nbgrader's scores are printed beside ours for the record (in
the kernel nothing compares with the reference, so its hidden cells pass whenever they do not raise). Both
contenders run in this process's turn, one after the other, twice, alternating who goes first; the ratio of
the medians is the figure (these machines are shared and noisy: only the ratio is meaningful).

    .venv/bin/python bench/grading_vs_nbgrader.py [--students 12] [--workers 2] [--repeats 2]
"""
import argparse, json, os, runpy, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ftcourse.grading import Limits, grade_folder, read_notebook, replace_solutions, sandbox_problem

ASSIGNMENT = "04_lora"
RUNTIME = '''# the probes run inside the student's kernel, as hidden tests did before the sandbox
from ftcourse.grading import close, unordered, as_set, raises, call, rng_state, count_flops
class _Names:
    def __getattr__(self, name): return get_ipython().user_ns[name]
def probe(fn):
    fn(_Names())
    return fn
get_ipython().user_ns.update(probe=probe, close=close, unordered=unordered, as_set=as_set, raises=raises, call=call,
                             rng_state=rng_state, count_flops=count_flops)
'''


def cohort(folder: Path, n: int) -> list:
    wrong = [e for vs in runpy.run_path(str(ROOT / "tests" / "wrong" / f"{ASSIGNMENT}.py"))["WRONG"].values() for e in vs.values()]
    nbs = [read_notebook(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), read_notebook(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")]
    nbs += [replace_solutions(nbs[0], wrong[i * 7 % len(wrong)]) for i in range(n - 2)]
    names = []
    for i, nb in enumerate(nbs):
        names.append(f"student{i:03d}")
        (folder / f"{names[-1]}.ipynb").write_text(json.dumps(nb))
    return names


def run_nbgrader(work: Path, folder: Path, names: list) -> tuple:
    "Serial `nbgrader autograde` of the whole cohort in a fresh course folder; returns (seconds, {student: score})."
    course = work / "nbgrader"
    shutil.rmtree(course, ignore_errors=True)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    for s in names:
        (course / "submitted" / s / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(folder / f"{s}.ipynb", course / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\nc.ExecutePreprocessor.timeout = 120\n")
    startup = work / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-probes.py").write_text(RUNTIME)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "IPYTHONDIR": str(work / "ipython"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=env, capture_output=True, check=True)
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=course, env=env, capture_output=True)
    seconds = time.perf_counter() - t
    from nbgrader.api import Gradebook
    scores = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for s in names:
            try: scores[s] = gb.find_submission(ASSIGNMENT, s).score
            except Exception: scores[s] = None
    return seconds, scores


def run_ftcourse(work: Path, folder: Path, workers: int) -> tuple:
    out = work / "ftcourse"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    res = grade_folder(ASSIGNMENT, folder, out=out, workers=workers, solutions=ROOT / "solutions", limits=Limits(cell_timeout=60), progress=False)
    return time.perf_counter() - t, {s: r["score"] for s, r in res.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=12); ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    if (why := sandbox_problem()) is not None: sys.exit(f"ftcourse grade needs its sandbox: {why}")
    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    folder = work / "submissions"; folder.mkdir()
    names = cohort(folder, a.students)
    times = {"nbgrader": [], "ftcourse": []}
    for rep in range(a.repeats):
        order = [("nbgrader", lambda: run_nbgrader(work, folder, names)), ("ftcourse", lambda: run_ftcourse(work, folder, a.workers))]
        for name, fn in (order if rep % 2 == 0 else order[::-1]):
            seconds, scores = fn()
            times[name].append(seconds)
            print(f"  {name:9s} run {rep + 1}: {seconds:6.1f} s", flush=True)
            if rep == 0: times[f"{name} scores"] = scores
    nb, ft = statistics.median(times["nbgrader"]), statistics.median(times["ftcourse"])
    print(f"\nscores (student: nbgrader in-kernel / ftcourse sandboxed):")
    for s in names: print(f"  {s}: {times['nbgrader scores'][s]} / {times['ftcourse scores'][s]:g}")
    print(f"\ncohort of {len(names)} notebooks of {ASSIGNMENT} on {os.cpu_count()} cores:")
    print(f"  nbgrader autograde, serial, unsandboxed:        {nb:7.1f} s  ({nb / len(names):.2f} s per notebook)")
    print(f"  ftcourse grade, sandboxed, {a.workers} workers:             {ft:7.1f} s  ({ft / len(names):.2f} s per notebook)")
    print(f"  ratio (nbgrader / ftcourse):                     {nb / ft:7.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
