# The course's two commands: `make lab` (open the notebooks) and `make test` (run every test).
# Both create .venv on first use and reinstall only when pyproject.toml or the lock changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
STAMP  := $(VENV)/.installed
# `make lab PORT=8890` serves on another port. Its token: see `lab` below.
PORT   ?= 8888
# The oldest Python the course runs on: the floor of requires-python in pyproject.toml.
PYTHON_FLOOR := $(or $(shell sed -n 's/^requires-python *= *">= *\([0-9][0-9.]*\)".*/\1/p' \
	pyproject.toml),$(error pyproject.toml has no requires-python = ">=X.Y" line))
# `$(PY) $(IS_SUPPORTED)` exits 0 when PY is at least PYTHON_FLOOR; PY_VERSION prints its version.
IS_SUPPORTED := -c "import sys; sys.exit(sys.version_info[:2] < tuple(map(int, '$(PYTHON_FLOOR)'.split('.'))))"
PY_VERSION   := -c "import platform; print(platform.python_version())"
PYTEST_FLAGS ?=
# Jupyter refuses to run as root unless told (containers, CI machines)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test unit nbval lint notebooks bench lock clean test-colab test-browser chromium \
	notebooks-once compile-times editions site

install: $(STAMP)

# A venv made by a Python older than PYTHON_FLOOR is rebuilt with $(PYTHON) when that one is
# new enough, and refused otherwise; an unsupported $(PYTHON) never leaves a venv behind.
$(STAMP): pyproject.toml $(LOCK)
	@if [ -d $(VENV) ] && ! $(BIN)/python $(IS_SUPPORTED) 2>/dev/null; then \
		old=$$($(BIN)/python $(PY_VERSION) 2>/dev/null) && old="Python $$old" \
			|| old="a Python that no longer runs"; \
		if $(PYTHON) $(IS_SUPPORTED) 2>/dev/null; then \
			echo "$(VENV) was made by $$old, older than the course's Python $(PYTHON_FLOOR):" \
				"rebuilding it with $(PYTHON)"; \
			rm -rf $(VENV); \
		else \
			echo "$(VENV) was made by $$old and the course needs Python >= $(PYTHON_FLOOR)." \
				"Run 'make install PYTHON=python$(PYTHON_FLOOR)' (any Python >= $(PYTHON_FLOOR))," \
				"which rebuilds it, or 'make clean' to remove it." >&2; \
			exit 1; \
		fi; \
	fi
	@test -x $(BIN)/python || { \
		if ! $(PYTHON) $(IS_SUPPORTED) 2>/dev/null; then \
			found=$$($(PYTHON) $(PY_VERSION) 2>/dev/null) && found="Python $$found" \
				|| found="not a Python that runs"; \
			echo "PYTHON=$(PYTHON) is $$found; the course needs Python >= $(PYTHON_FLOOR)." \
				"Run 'make install PYTHON=python$(PYTHON_FLOOR)' (or any newer python3.X)." >&2; \
			exit 1; \
		fi; \
		$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e ".[lab,test,site]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	@touch $(STAMP)

# `make lab`: one random token per run, made once, printed in the URL and handed to JupyterLab
# in its environment (JUPYTER_TOKEN), so no command line shows it. COURSE_LAB_TOKEN=... in the
# environment chooses your own; an empty one is refused (it would turn authentication off).
ifneq ($(filter lab,$(MAKECMDGOALS)),)
ifneq ($(origin COURSE_LAB_TOKEN),undefined)
ifeq ($(strip $(COURSE_LAB_TOKEN)),)
$(error COURSE_LAB_TOKEN is empty, which would open JupyterLab to anyone: unset it (make lab then \
makes a random token) or set it to a long random string)
endif
endif
endif

lab: install
	@$(if $(filter command line,$(origin TOKEN)),echo "make lab does not read TOKEN:" \
		"set COURSE_LAB_TOKEN in the environment to choose the token" >&2;) \
	token="$${COURSE_LAB_TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(24))')}" \
		&& [ -n "$$token" ] || { echo "make lab: no token, JupyterLab not started" >&2; exit 1; }; \
	echo "JupyterLab: http://127.0.0.1:$(PORT)/lab?token=$$token"; \
	JUPYTER_TOKEN="$$token" exec $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=notebooks $(ALLOW_ROOT)

test: install lint unit notebooks-once

lint: install
	$(BIN)/ruff check .

# Test runs never touch your own caches: each run trains its models into a fresh temporary
# folder (removed afterwards) and keeps compiled programs in .cache/compiled in the checkout.
TEST_CACHE = tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	export COURSE_CACHE_DIR="$$tmp" COURSE_COMPILE_CACHE_DIR="$(CURDIR)/.cache/compiled" &&

# The unit tests compile many small programs and run most of them briefly, so they ask XLA for
# its quickest compilation (backend optimisation level 0: the same results; a small program
# compiles about 3x faster, but trained models run slower). The "build it" checks' wrong answers
# train models for seconds each (130 s in all at XLA's defaults, 186 s at level 0): a second
# pytest runs them with XLA's defaults, which the notebooks use too. pytest exits 5 when
# PYTEST_FLAGS leaves a run no test.
UNIT_XLA := XLA_FLAGS="--xla_backend_optimization_level=0 $$XLA_FLAGS"
NO_TESTS_OK := || [ $$? -eq 5 ]

unit: install
	$(TEST_CACHE) $(UNIT_XLA) $(BIN)/python -m pytest tests -m "not trains_wrong_answers" \
		$(PYTEST_FLAGS) $(NO_TESTS_OK)
	$(TEST_CACHE) $(BIN)/python -m pytest tests -m trains_wrong_answers $(PYTEST_FLAGS) \
		$(NO_TESTS_OK)

# Every notebook, executed top to bottom in fast mode by the project's own kernel; each exercise
# stub must be reported "not attempted yet" (COURSE_EXPECT_CHECKS: any other outcome is an error).
NBVAL_NOTEBOOKS ?= notebooks
nbval: install
	$(TEST_CACHE) COURSE_FAST=1 COURSE_EXPECT_CHECKS=not-attempted $(BIN)/python -m pytest \
		--nbval-lax --nbval-current-env -p no:cacheprovider $(NBVAL_NOTEBOOKS) $(PYTEST_FLAGS)

# Each notebook is executed once per test run: in JupyterLab by the browser tests, which check
# that every cell ran without an error (what nbval checks) and then drive the explorers; under
# nbval instead where Chromium cannot be had.
notebooks-once: $(BROWSER_STAMP) chromium
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM" ]; then \
		$(MAKE) --no-print-directory test-browser; \
	else \
		echo "No Chromium: the notebooks run under nbval instead of in JupyterLab"; \
		$(MAKE) --no-print-directory nbval; \
	fi

# The notebooks' explorers in a real JupyterLab, driven by Playwright (the `browser` extra) in
# Debian's Chromium: every notebook is run, each slider and menu is moved and
# must redraw; screenshots and latencies go to artifacts/browser/. Chromium comes from apt when
# missing (as root, as in CI); otherwise the tests skip with a message. No browser download.
BROWSER_STAMP := $(VENV)/.installed-browser

$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) \
		-e ".[lab,test,site,browser]"
	@touch $(BROWSER_STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else \
			echo "chromium is missing and only root can install it (sudo apt-get install" \
				"chromium): the browser tests will be skipped"; \
		fi; }

test-browser: $(BROWSER_STAMP) chromium
	$(TEST_CACHE) COURSE_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider \
		$(PYTEST_FLAGS)

# The same tests on the versions Google Colab ships (requirements/colab.txt, Python 3.13):
# installing with those versions as constraints also proves pyproject's ranges admit them.
# The notebooks run here as their instructor edition (`make editions`), each exercise's solution
# in place of its stub, and every check must pass; `make test` runs them as students get them.
# The "build it" checks' wrong answers, which train models, run in `make test` only.
PYTHON_COLAB ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.13)
VENV_COLAB   ?= .venv-colab
COLAB_STAMP  := $(VENV_COLAB)/.installed

$(COLAB_STAMP): pyproject.toml requirements/colab.txt
	@test -x $(VENV_COLAB)/bin/python || $(PYTHON_COLAB) -m venv $(VENV_COLAB)
	$(VENV_COLAB)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(VENV_COLAB)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c requirements/colab.txt -e ".[test]" ipykernel
	@touch $(COLAB_STAMP)

test-colab: $(COLAB_STAMP)
	@$(VENV_COLAB)/bin/python -c "import sys, jax, flax, optax, ipywidgets, matplotlib; \
		print('== Colab versions: Python', sys.version.split()[0], '| jax', jax.__version__, \
		'| flax', flax.__version__, '| optax', optax.__version__, '| ipywidgets', \
		ipywidgets.__version__, '| matplotlib', matplotlib.__version__)"
	$(TEST_CACHE) $(UNIT_XLA) $(VENV_COLAB)/bin/python -m pytest tests \
		--ignore=tests/test_project.py --ignore=tests/test_make.py -m "not trains_wrong_answers" \
		-p no:cacheprovider $(PYTEST_FLAGS)
	$(TEST_CACHE) $(VENV_COLAB)/bin/python scripts/build_editions.py --out "$$tmp/editions" \
		&& COURSE_FAST=1 COURSE_EXPECT_CHECKS=pass $(VENV_COLAB)/bin/python -m pytest \
		--nbval-lax --nbval-current-env -p no:cacheprovider -c pyproject.toml \
		"$$tmp/editions/instructor" $(PYTEST_FLAGS)

# Re-execute every notebook in full mode and store its outputs (what students read first),
# with an empty model cache, so the stored outputs show a first run, training included. Each
# explorer also stores a static HTML version of itself, which the web site (`make site`) shows.
NOTEBOOKS ?= notebooks/*.ipynb
notebooks: install
	COURSE_FAST=0 COURSE_STATIC_EXPLORERS=1 COURSE_CACHE_DIR=$$(mktemp -d) $(BIN)/python \
		scripts/execute_notebooks.py $(NOTEBOOKS)

# The student edition (no solutions) and the instructor edition (solutions in place of the stubs,
# model answers shown) of every notebook, under editions/; nothing is executed.
editions: install
	$(BIN)/python scripts/build_editions.py

# The course as a static web site under build/site (the student edition of every notebook with
# its stored outputs, nothing executed; docs/site/conf.py): fails on a warning or a broken link.
site: install
	$(BIN)/python scripts/build_site.py --out build/site

# Seconds each notebook spends compiling on a first and a second run (full mode; FAST=1 for fast).
compile-times: install
	$(BIN)/python scripts/compile_times.py $(if $(FAST),--fast,) $(NOTEBOOKS)

bench: install
	-$(BIN)/python -m pip install --quiet -c $(LOCK) "torch==2.13.0" || \
		echo "PyTorch not installed: the PyTorch columns will be skipped"
	$(BIN)/python benchmarks/bench_training_steps.py
	$(BIN)/python benchmarks/bench_widgets.py

# Re-pin the test environment after changing pyproject.toml's ranges.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet "pip>=24" && .lock-venv/bin/python -m pip install --quiet ".[lab,test,site,browser]"
	.lock-venv/bin/python -m pip freeze --exclude course-utils | sort > $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(VENV_COLAB) .pytest_cache .ruff_cache .cache
