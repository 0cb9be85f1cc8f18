# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := postgres,server,stats,sklearn,pandas,models

.PHONY: demo test lint typecheck pytest install postgres clean bench

# --group reads pyproject's [dependency-groups] (PEP 735): pip >= 25.1, hence the upgrade first.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]' --group dev
	touch $(STAMP)

install: $(STAMP)

postgres:
	bash scripts/ensure-postgres.sh

demo: $(STAMP)
	$(BIN)/python examples/demo.py
	$(BIN)/mltrail projects list
	$(BIN)/mltrail runs list demo-breast-cancer --sort=-metrics.val/acc --limit 12
	$(BIN)/mltrail runs list demo-wine --filter 'metrics.val/acc >= 0.9' --sort=-metrics.val/acc --limit 12
	$(BIN)/mltrail models show breast-cancer-classifier@production
	$(BIN)/mltrail models audit breast-cancer-classifier --limit 8
	$(BIN)/mltrail monitor report breast-cancer-production --window 1d --last 31d
	$(BIN)/mltrail monitor alerts list breast-cancer-production --state open

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) postgres
	MLTRAIL_TEST_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/log_overhead.py
	$(BIN)/python benchmarks/store_queries.py

clean:
	rm -rf $(VENV) mltrail demo .mypy_cache .ruff_cache .pytest_cache
