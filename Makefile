# pvgen: `make run` checks the shipped specs, `make test` runs the test suite.
# Both create .venv on first use, so they are the whole set-up on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/pvgen check
	$(BIN)/pvgen dump specs/paravirt.pvspec > /dev/null && echo "model of specs/paravirt.pvspec dumps cleanly"

test: $(STAMP)
	$(BIN)/ruff check pvgen tests bench
	$(BIN)/black --check --quiet pvgen tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check pvgen tests bench
	$(BIN)/black --check pvgen tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Rewrite the golden files of tests/golden from the current code; review the diff.
golden: $(STAMP)
	PVGEN_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/test_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
