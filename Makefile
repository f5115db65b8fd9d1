# Maillage — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= var/store
export MAILLAGE_STORE ?= $(abspath $(STORE))

.PHONY: setup setup-test demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs Maillage (editable) and its dependencies into .venv.
setup: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

# Also the test dependencies, and the system packages the browser tests need.
setup-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	bash scripts/install-system-deps.sh

# Main job: build the demo graph on the embedded store, then show what it holds.
demo: setup
	bash scripts/demo.sh

test: setup-test
	$(BIN)/python -m pytest -q

lint: setup-test
	$(BIN)/ruff check graph api tests bench

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var build *.egg-info
