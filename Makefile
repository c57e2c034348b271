# The README's commands. Everything runs from the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pyscard (the reader extra) builds from source: after the system packages are in place.
READER_STAMP := $(VENV)/.installed-reader
export ONSHI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-prerequisites lint typecheck format bench bench-p1 install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/onshi run-demo

# Debian packages the tests need (Chromium, pcscd, vpcd, libpcsclite-dev, swig): installed when
# run as root, otherwise named with the command to install them. Standard library only.
test-prerequisites: $(STAMP)
	$(BIN)/python -m onshi.devtools.test_prerequisites

$(READER_STAMP): pyproject.toml $(STAMP) | test-prerequisites
	$(BIN)/python -m pip install --quiet -e ".[dev,reader]"
	touch $(READER_STAMP)

# Both suites run even when the first fails; the exit status is the last failure's (5: no tests).
test: test-prerequisites $(READER_STAMP)
	@status=0; \
	$(BIN)/python -m pytest tests || status=$$?; \
	$(BIN)/python -m pytest e2e || status=$$?; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src reader_bridge tests e2e bench
	$(BIN)/ruff format --check src reader_bridge tests e2e bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src reader_bridge tests e2e bench
	$(BIN)/ruff format src reader_bridge tests e2e bench

bench: $(STAMP)
	$(BIN)/python -m bench

# P1 (BENCHMARKS.md): PostgreSQL with 2 workers, then SQLite with 1 worker. Needs a local
# PostgreSQL and Debian's wrk package (apt-get install wrk).
bench-p1: $(STAMP)
	$(BIN)/python -m bench.verification_api --database postgresql --workers 2
	$(BIN)/python -m bench.verification_api --database sqlite --workers 1

clean:
	rm -rf $(VENV) var
