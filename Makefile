# The README's commands. Everything runs from the project's own virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Three layers, each installed once (re-installed when pyproject.toml changes):
# - runtime (make run): the portal's own dependencies, wheels only, so no compiler or headers;
# - dev (make test / lint / bench): test, lint and benchmark tools, wheels only;
# - reader (make test): pyscard, built from source against libpcsclite-dev with swig, so only
#   after test-prerequisites has put the Debian packages in place.
WHEELS_ONLY := --only-binary :all:
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
READER_STAMP := $(VENV)/.installed-reader
export ONSHI_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-prerequisites bench-prerequisites lint typecheck format bench bench-p1 install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(WHEELS_ONLY) -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet $(WHEELS_ONLY) -e ".[dev]"
	touch $(DEV_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/onshi run-demo

# Debian packages the tests need (Chromium, pcscd, vpcd, libpcsclite-dev, swig): installed when
# run as root, otherwise named with the command to install them. Standard library only, run from
# the source tree, so it needs nothing installed.
test-prerequisites:
	PYTHONPATH=src $(PYTHON) -m onshi.devtools.test_prerequisites

$(READER_STAMP): pyproject.toml $(DEV_STAMP) | test-prerequisites
	$(BIN)/python -m pip install --quiet -e ".[dev,reader]"
	touch $(READER_STAMP)

# Both suites run even when the first fails; the exit status is the last failure's (5: no tests).
test: test-prerequisites $(DEV_STAMP) $(READER_STAMP)
	@status=0; \
	$(BIN)/python -m pytest tests || status=$$?; \
	$(BIN)/python -m pytest e2e || status=$$?; \
	exit $$status

lint: $(DEV_STAMP)
	$(BIN)/ruff check src reader_bridge tests e2e bench
	$(BIN)/ruff format --check src reader_bridge tests e2e bench
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix src reader_bridge tests e2e bench
	$(BIN)/ruff format src reader_bridge tests e2e bench

# The HTTP benchmark drives the server with wrk (Debian package): installed as root, otherwise
# named with the command to install it.
bench-prerequisites:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk || \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }; \
	  else \
	    echo "make bench needs wrk: sudo apt-get install -y wrk" >&2; exit 1; \
	  fi; }

bench: bench-prerequisites $(DEV_STAMP)
	$(BIN)/python -m bench

# P1 (BENCHMARKS.md): PostgreSQL with 2 workers, then SQLite with 1 worker. Needs a local
# PostgreSQL; wrk (Debian) comes from bench-prerequisites.
bench-p1: bench-prerequisites $(DEV_STAMP)
	$(BIN)/python -m bench.verification_api --database postgresql --workers 2
	$(BIN)/python -m bench.verification_api --database sqlite --workers 1

clean:
	rm -rf $(VENV) var
