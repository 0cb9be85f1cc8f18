# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SMOKE  := build/smoke-venv
EXTRAS := postgres,server,stats,sklearn,pandas,models

.PHONY: demo test lint typecheck pytest smoke install postgres chromium web webtest clean bench

# --group reads pyproject's [dependency-groups] (PEP 735): pip >= 25.1, hence the upgrade first.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]' --group dev
	touch $(STAMP)

install: $(STAMP)

postgres:
	bash scripts/ensure-postgres.sh

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).
chromium:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The web UI (web/, React + Vite) built into the package: src/mltrail/api/ui_assets/, served by mltrail server.
WEB_STAMP := src/mltrail/api/ui_assets/index.html
$(WEB_STAMP): web/package.json web/package-lock.json $(shell find web/src web/index.html web/vite.config.ts -type f 2>/dev/null)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

web: $(WEB_STAMP)

webtest: web
	cd web && npm test --silent && npm run typecheck --silent

demo: $(STAMP) web
	$(BIN)/python examples/demo.py
	$(BIN)/mltrail projects list
	$(BIN)/mltrail runs list demo-breast-cancer --sort=-metrics.val/acc --limit 12
	$(BIN)/mltrail runs list demo-wine --filter 'metrics.val/acc >= 0.9' --sort=-metrics.val/acc --limit 12
	$(BIN)/mltrail runs samples forest-d3 gbm-lr0.2-d3 --table val --project demo-breast-cancer --limit 5 --top 5
	$(BIN)/mltrail models show breast-cancer-classifier@production
	$(BIN)/mltrail models audit breast-cancer-classifier --limit 8
	$(BIN)/mltrail monitor report breast-cancer-production --window 1d --last 31d
	$(BIN)/mltrail monitor alerts list breast-cancer-production --state open
	$(BIN)/mltrail deploy show breast-cancer
	$(BIN)/mltrail deploy history breast-cancer --limit 4
	$(BIN)/mltrail ui --port 5500 --no-browser

lint: $(STAMP)
	@! git grep -nE '^(<<<<<<<|>>>>>>>)( |$$)' -- . || (echo 'merge conflict markers left (above)'; exit 1)
	$(BIN)/ruff check src tests benchmarks examples scripts
	$(BIN)/ruff format --check src tests benchmarks examples scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# The stateful fuzz runs in a process of its own: alone it passes in ~2 minutes, but inside the whole suite's
# process it failed twice with Hypothesis' FlakyStrategyDefinition (once after pytest's 300 s timeout, once
# after ~10 minutes): state left by earlier tests changes its replays. Cause not yet found.
STATEFUL_FUZZ = tests/api/test_fuzz_stateful.py::test_sequences_of_calls_get_no_server_error
pytest: $(STAMP) postgres chromium web
	MLTRAIL_TEST_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/pytest -q --deselect $(STATEFUL_FUZZ)
	$(BIN)/pytest -q $(STATEFUL_FUZZ)

# The wheel as a new user gets it: built, installed with no extras into a fresh venv (pip reuses its cache),
# then a training script, a drift report and the CLI run from an empty folder (scripts/smoke_wheel.py).
smoke: $(STAMP)
	rm -rf $(SMOKE) dist/mltrail-*.whl
	$(BIN)/python -m build --quiet --wheel --outdir dist .
	$(PYTHON) -m venv --without-pip $(SMOKE)
	$(BIN)/python -m pip --python $(SMOKE)/bin/python install --quiet dist/mltrail-*.whl
	$(SMOKE)/bin/python scripts/smoke_wheel.py

test: lint typecheck webtest smoke pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/log_overhead.py
	$(BIN)/python benchmarks/store_queries.py

clean:
	rm -rf $(VENV) mltrail demo build dist .mypy_cache .ruff_cache .pytest_cache web/node_modules src/mltrail/api/ui_assets
