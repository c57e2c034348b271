# The README's commands. Everything runs from the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ONSHI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint typecheck format bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/onshi run-demo

test: $(STAMP)
	$(BIN)/python -m onshi.devtools.test_prerequisites
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest e2e

lint: $(STAMP)
	$(BIN)/ruff check src reader_bridge tests e2e bench
	$(BIN)/ruff format --check src reader_bridge tests e2e bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src reader_bridge tests e2e bench
	$(BIN)/ruff format src reader_bridge tests e2e bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
