# Two commands: `make serve` and `make test` each set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# `make serve` runs from its own venv with the serving dependencies only (no test tools).
SERVE_VENV  := .venv-serve
SERVE_STAMP := $(SERVE_VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 1

.PHONY: setup serve test lint format bench bench-sig fuzz load wheel-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

$(SERVE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet --upgrade pip
	$(SERVE_VENV)/bin/pip install --quiet -e .
	touch $(SERVE_STAMP)

# medval prints the URL it listens on before it starts.
serve: $(SERVE_STAMP)
	mkdir -p .medval-data
	$(SERVE_VENV)/bin/medval serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 -m "not wheel"

# The built wheel in a fresh venv: medval validate and medval serve from it (about 20-60 s; CI runs it too).
wheel-test: $(STAMP)
	$(BIN)/pytest -m wheel tests/test_wheel_install.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Not part of `make test`: about 4 minutes (valgrind, wrk: apt-get installs wrk if missing), figures as ratios to same-run baselines (docs/performance.md).
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# The sig reader's reading rate on benchmarks/sig_corpus (a second; `make bench` runs it too).
bench-sig: $(STAMP)
	$(BIN)/python -m benchmarks.sig

# The big property-based runs of the HTTP service: its own OpenAPI schema, and mutated real orders (the suite runs small ones).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	MEDVAL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider tests/http/test_schemathesis.py tests/http/test_mutated_orders.py

# Not part of `make test`: wrk (apt-get installs it if missing) against `medval serve` on loopback for LOAD_SECONDS
# (default 60); fails on any 5xx or on worker memory growth. Figures in the README.
load: $(STAMP)
	LOAD_SECONDS=$(or $(LOAD_SECONDS),60) scripts/load.sh

clean:
	rm -rf $(VENV) $(SERVE_VENV) .pytest_cache .hypothesis build dist
