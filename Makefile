# Two entry points for a fresh machine: `make demo` and `make test` (what CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)

.PHONY: demo test install lint typecheck pytest dev clean

$(BIN)/analytics-pipeline: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/analytics-pipeline

demo: install
	$(BIN)/analytics-pipeline demo

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy analytics_pipeline assets schedules

pytest: install
	$(BIN)/pytest -n 2 --dist loadfile

dev: install
	$(BIN)/dagster dev

clean:
	rm -rf $(VENV) data .dagster_home build dist *.egg-info
