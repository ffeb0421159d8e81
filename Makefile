# The course's two commands: `make lab` (open the notebooks) and `make test` (run every test).
# Both create .venv on first use and reinstall only when pyproject.toml or the lock changes.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# A fresh random token per `make lab` unless you pass TOKEN=...
TOKEN  ?= $(shell $(PYTHON) -c "import secrets; print(secrets.token_hex(16))")
PYTEST_FLAGS ?=
# Jupyter refuses to run as root unless told (containers, CI machines)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test unit nbval lint notebooks bench lock clean test-colab test-browser chromium \
	notebooks-once compile-times

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e ".[lab,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	@touch $(STAMP)

lab: install
	@echo "JupyterLab: http://127.0.0.1:$(PORT)/lab?token=$(TOKEN)"
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=notebooks --IdentityProvider.token=$(TOKEN) $(ALLOW_ROOT)

test: install lint unit notebooks-once

lint: install
	$(BIN)/ruff check .

# Test runs never touch your own caches: each run trains its models into a fresh temporary
# folder (removed afterwards) and keeps compiled programs in .cache/compiled in the checkout.
TEST_CACHE = tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	export COURSE_CACHE_DIR="$$tmp" COURSE_COMPILE_CACHE_DIR="$(CURDIR)/.cache/compiled" &&

unit: install
	$(TEST_CACHE) $(BIN)/python -m pytest tests $(PYTEST_FLAGS)

# Every notebook, executed top to bottom in fast mode by the project's own kernel.
NBVAL_NOTEBOOKS ?= notebooks
nbval: install
	$(TEST_CACHE) COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider $(NBVAL_NOTEBOOKS) $(PYTEST_FLAGS)

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
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e ".[lab,test,browser]"
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
	$(TEST_CACHE) $(VENV_COLAB)/bin/python -m pytest tests --ignore=tests/test_project.py \
		-p no:cacheprovider $(PYTEST_FLAGS)
	$(TEST_CACHE) COURSE_FAST=1 $(VENV_COLAB)/bin/python -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider notebooks $(PYTEST_FLAGS)

# Re-execute every notebook in full mode and store its outputs (what students read first),
# with an empty model cache, so the stored outputs show a first run, training included.
NOTEBOOKS ?= notebooks/*.ipynb
notebooks: install
	COURSE_FAST=0 COURSE_CACHE_DIR=$$(mktemp -d) $(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS)

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
	.lock-venv/bin/python -m pip install --quiet "pip>=24" && .lock-venv/bin/python -m pip install --quiet ".[lab,test,browser]"
	.lock-venv/bin/python -m pip freeze --exclude course-utils | sort > $(LOCK)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(VENV_COLAB) .pytest_cache .ruff_cache .cache
