# ftcourse: `make demo` runs the main job, `make test` runs every check.
# Both create the environment (.venv, the pinned CPU stack) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: env browser sandbox demo test sync-check lessons grading pytest docs bench data tinylm clean colab wheel-test lowest-test

$(STAMP): requirements-cpu.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-cpu.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

env: $(STAMP)

## The main job: lesson 09's pipeline on the bundled assets (fine-tune, evaluate, export, int8, serve, check, report) into demo_out/
demo: env
	$(BIN)/ftcourse demo --out demo_out

## Every check CI runs, one step after another; a table of each step's wall time comes at the end.
TIMES   := .make-test-times
LESSONS_LOG := .make-test-lessons.log
TIMED    = $(PYTHON) scripts/test_timing.py run $(TIMES)
SUBMAKE  = $(MAKE) --no-print-directory
test:
	@rm -f $(TIMES) $(LESSONS_LOG)
	@$(TIMED) "environment (.venv)" -- $(SUBMAKE) env || { $(PYTHON) scripts/test_timing.py table $(TIMES); exit 1; }
	@$(TIMED) "browser (chromium)" -- $(SUBMAKE) browser || { $(PYTHON) scripts/test_timing.py table $(TIMES); exit 1; }
	@$(TIMED) sync-check -- $(SUBMAKE) sync-check || { $(PYTHON) scripts/test_timing.py table $(TIMES); exit 1; }
	@$(TIMED) lessons -- $(SUBMAKE) lessons || { $(PYTHON) scripts/test_timing.py table $(TIMES) $(LESSONS_LOG); exit 1; }
	@$(TIMED) "pytest (without grading, docs)" -- $(SUBMAKE) pytest PYTEST_ARGS="--ignore=tests/test_docs.py --ignore=tests/test_grading.py" \
	  || { $(PYTHON) scripts/test_timing.py table $(TIMES) $(LESSONS_LOG); exit 1; }
	@$(TIMED) "pytest (grading, alone)" -- $(SUBMAKE) pytest PYTEST_WORKERS=0 PYTEST_ARGS="tests/test_grading.py" \
	  || { $(PYTHON) scripts/test_timing.py table $(TIMES) $(LESSONS_LOG); exit 1; }
	@$(TIMED) "docs (build + browser)" -- $(SUBMAKE) pytest PYTEST_ARGS="tests/test_docs.py" \
	  || { $(PYTHON) scripts/test_timing.py table $(TIMES) $(LESSONS_LOG); exit 1; }
	@$(PYTHON) scripts/test_timing.py table $(TIMES) $(LESSONS_LOG)
	@echo "make test: all checks passed"

## Library in sync with notebooks; notebooks clean; exercises in sync with solutions.
sync-check: env
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean
	$(BIN)/nbdev-clean --fname solutions
	$(BIN)/nbdev-clean --fname exercises
	@git diff --exit-code --stat -- ftcourse nbs solutions exercises \
	  || (echo "sync-check: the files above changed; run nbdev-export / nbdev-clean and commit"; exit 1)
	@test -z "$$(git status --porcelain --untracked-files=all -- ftcourse/*.py)" \
	  || (echo "sync-check: nbdev-export created untracked modules:"; git status --porcelain -- ftcourse; exit 1)

## Every lesson executes, offline, on CPU (short paths; `make lessons FLAGS=slow` runs full budgets).
## Two notebooks at once with one thread each: more threads than cores slows PyTorch down many times over.
lessons: env sandbox
	cd nbs && OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 ../$(BIN)/nbdev-test --n-workers 2 --timing $(if $(FLAGS),--flags $(FLAGS),) \
	  > ../$(LESSONS_LOG); rc=$$?; cat ../$(LESSONS_LOG); exit $$rc

## pytest: library API, CLI, demo, grading pipeline, assets, docs site in a real browser.
## Tests marked `slow` (long trainings, third-party servers) run with `make pytest SLOW=1`.
## Two pytest workers, one test file each at a time, one compute thread each (tests/conftest.py); PYTEST_WORKERS=0 runs in one process.
## `make test` runs the grading tests alone afterwards: their hostile cohort runs sandboxes against CPU-time and memory limits,
## which another test file running beside them could push over.
PYTEST_WORKERS ?= 2
pytest: env browser sandbox
	FTCOURSE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -ra --durations=25 -n $(PYTEST_WORKERS) --dist loadfile $(if $(SLOW),,-m "not slow") $(PYTEST_ARGS)

## Debian's chromium for the docs browser check (needs root the first time; a no-op when present).
## Without recommended packages: 25 packages instead of 130, no systemd upgrade; headless needs none of them.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }

## Debian's bubblewrap: cohort grading runs every learner notebook in its sandbox and refuses to run without it
## (needs root the first time; a no-op when present).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends bubblewrap; }
	@bwrap --ro-bind / / --unshare-net --unshare-pid --die-with-parent true \
	  || { echo "sandbox: bubblewrap is installed but cannot create a sandbox here (user namespaces or privileges missing)"; exit 1; }

## The docs site, offline, into _site/ (nbdev-docs renders the same nbs/_quarto.yml where Quarto exists); then the browser check.
docs: env browser
	$(BIN)/python scripts/build_docs.py
	FTCOURSE_DOCS_SITE=_site FTCOURSE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -ra tests/test_docs.py

## Colab badge + install cell in every notebook of nbs/ and solutions/, then the releases regenerated from solutions/.
colab: env
	$(BIN)/python scripts/colab_cells.py
	@for d in solutions/*/; do a=$$(basename $$d); PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment $$a --force >/dev/null || exit 1; done
	$(BIN)/nbdev-clean --fname nbs
	$(BIN)/nbdev-clean --fname solutions
	$(BIN)/nbdev-clean --fname exercises
	$(BIN)/python scripts/colab_cells.py --check

## The package as engineers get it: sdist + wheel, twine check, a clean virtualenv with only the pinned CPU
## torch, the wheel installed from it (dependencies from the package index), the README's engineer snippet
## and a LoRA fine-tune run offline against it. Prints sizes and times.
wheel-test: env
	$(BIN)/python scripts/wheel_test.py --python $(PYTHON)

## The declared lower bounds (pyproject.toml) proved: an environment at exactly those versions (.venv-lowest),
## the library tests in it.
lowest-test:
	$(PYTHON) scripts/lowest_test.py --python $(PYTHON)

grading: env sandbox
	$(BIN)/python -m pytest -q -ra tests/test_grading.py

bench: env sandbox
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Rebuild the shipped assets (needs Debian's wordnet-base for the data).
data: env
	$(BIN)/python scripts/build_data.py
tinylm: env
	$(BIN)/python scripts/build_tinylm.py

clean:
	rm -rf demo_out _site _docs _proc .pytest_cache $(TIMES) $(LESSONS_LOG)
