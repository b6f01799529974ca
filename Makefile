# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample

.PHONY: install run test lint typecheck pytest bench clean

install: $(STAMP)

# Re-install only when the dependency list changes; pip is idempotent either way.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Until the server exists (issue 3), `make run` shows what the bundled sample holds.
run: install
	$(BIN)/labelpilot inspect kitti-tracking $(SAMPLE)/kitti-tracking --sequence 0001
	$(BIN)/labelpilot inspect kitti-odometry $(SAMPLE)/kitti-odometry-00

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
