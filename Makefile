# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 8000

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP) $(NODE_STAMP)

# Re-install only when the dependency list changes; pip is idempotent either way.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser editor's packages (three.js, TypeScript for the type check), exactly as locked.
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# The embedded demo: SQLite and local blobs under .labelpilot/, the bundled sample scenes, demo logins.
run: install
	$(BIN)/labelpilot demo --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: install
	$(BIN)/mypy
	npx tsc --noEmit -p tsconfig.json

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis
