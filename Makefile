# The two commands a new user runs: `make reproduce` and `make test`. Both set up .venv if it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= quick
WORLD ?= data/world
RESULTS ?= results
SEED ?= 0

.PHONY: setup reproduce world notebooks test lint format lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

world: $(STAMP)
	$(BIN)/python -m ssl_kit world --preset $(SCALE) --seed $(SEED) --out $(WORLD)

reproduce: $(STAMP)
	$(BIN)/python -m ssl_kit reproduce --scale $(SCALE) --world $(WORLD) --results $(RESULTS) --seed $(SEED)

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
	rm -rf $(RESULTS) .pytest_cache
