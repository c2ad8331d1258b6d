# Two commands: `make serve` and `make test` each set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 1

.PHONY: setup serve test lint format bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	mkdir -p .medval-data
	$(BIN)/medval serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Not part of `make test`: about 5 minutes, figures as ratios to same-run baselines (docs/performance.md).
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# The big property-based runs of the HTTP service: its own OpenAPI schema, and mutated real orders (the suite runs small ones).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	MEDVAL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider tests/http/test_schemathesis.py tests/http/test_mutated_orders.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
