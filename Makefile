# The two commands a new user runs: `make reproduce` and `make test`. Both set up .venv if it is missing.
# `make test` is the fast lane a contributor runs after each change (every test not marked slow); `make test-all`
# runs every test and lists the 25 slowest (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= quick
SEED ?= 0
# seeds of every network the findings rest on (each check is decided by its spread over them); 1: a direction only
SEEDS ?= 3
# unset: the kit's own folders for the scale and seed, data/world/<scale> and results/<scale> (<scale>-seed<k>
# for a seed k > 0), so each scale keeps its world and results; set them to use other folders
WORLD ?=
RESULTS ?=
FOLDERS = $(if $(WORLD),--world $(WORLD)) $(if $(RESULTS),--results $(RESULTS))
# the browser test drives Debian's Chromium (package `chromium`); Playwright never downloads a browser here
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BROWSER_STAMP := $(VENV)/.installed-browser
CLUSTER_STAMP := $(VENV)/.installed-cluster
# where the study's sweep cells run: local (unset), slurm or ray (docs/cluster.md); more flags in LAUNCH_FLAGS
LAUNCHER ?=
LAUNCH_FLAGS ?=
LAUNCH = $(if $(LAUNCHER),--launcher $(LAUNCHER)) $(LAUNCH_FLAGS)

.PHONY: setup reproduce study world notebooks test test-all test-browser test-cluster chromium lint format lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

world: $(STAMP)
	$(BIN)/python -m ssl_kit world --preset $(SCALE) --seed $(SEED) $(if $(WORLD),--out $(WORLD))

reproduce: $(STAMP)
	$(BIN)/python -m ssl_kit reproduce --scale $(SCALE) --seed $(SEED) $(FOLDERS) --param n_seeds=$(SEEDS) $(LAUNCH)

# the whole study: every cell of every grid, the budget curve and invariance during training (notebooks 06 and
# 07, which `make reproduce` leaves out): hours on a 2-core CPU; cached cells are reused
study: $(STAMP)
	$(BIN)/python -m ssl_kit reproduce --scale $(SCALE) --seed $(SEED) $(FOLDERS) \
	  --param n_seeds=$(SEEDS) --param policies=null --param variants=null --all-notebooks $(LAUNCH)

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q --durations=25

# Notebooks 05 and 08 in JupyterLab in headless Chromium (tests/browser, a few minutes); `make test-all` leaves them out.
test-browser: $(BROWSER_STAMP) chromium
	SSL_KIT_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -m browser tests/browser

$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,browser]"
	touch $(BROWSER_STAMP)

# Sweeps through a real SLURM cluster (Debian's slurmctld, slurmd and munge, started on this machine by the tests'
# fixture: tests/cluster/start_slurm.sh) and a real local Ray cluster; pytest -s shows what each test did.
test-cluster: $(CLUSTER_STAMP)
	$(BIN)/python -m pytest -q -s -m cluster tests/cluster

$(CLUSTER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,cluster]"
	touch $(CLUSTER_STAMP)

chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@test -x $(CHROMIUM) || { echo "no $(CHROMIUM) after installing Debian's chromium"; exit 1; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(or $(RESULTS),results) .pytest_cache
