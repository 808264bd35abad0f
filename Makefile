# pvgen: `make run` checks the shipped specs, `make test` runs the test suite.
# Both create .venv on first use, so they are the whole set-up on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench fuzz golden docs tables clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/pvgen check
	$(BIN)/pvgen generate

# Wheels of pvgen's dependencies and of its build backend, for the tests that install pvgen
# into a fresh virtual environment (from its wheel, or through pre-commit) without the network.
WHEELS := tests/.wheels/.complete
EXAMPLES := examples/asm-offsets/pvgen_asm_offsets.py examples/rule-ops-suffix/pvgen_rule_ops_suffix.py

$(WHEELS): pyproject.toml $(STAMP)
	rm -rf $(dir $@)
	$(BIN)/pip wheel --quiet --no-build-isolation --wheel-dir $(dir $@) . 'setuptools>=77'
	rm -f $(dir $@)pvgen-*.whl
	touch $@

# VS Code's TextMate engine for the tests of the editor grammar (tests/test_editor_grammar.py),
# installed from the lock file where npm is at hand; without node those tests are skipped.
GRAMMAR_TEST := editors/vscode/test
NODE_MODULES := $(if $(shell command -v npm 2>/dev/null),$(GRAMMAR_TEST)/node_modules/.package-lock.json)

$(GRAMMAR_TEST)/node_modules/.package-lock.json: $(GRAMMAR_TEST)/package-lock.json
	cd $(GRAMMAR_TEST) && npm ci --no-audit --no-fund --loglevel=error

test: $(STAMP) $(WHEELS) $(NODE_MODULES)
	$(BIN)/ruff check pvgen tests bench examples specs/linux
	$(BIN)/black --check --quiet pvgen tests bench examples specs/linux
	$(BIN)/mypy
	$(BIN)/mypy --strict $(EXAMPLES)
	$(BIN)/mypy specs/linux/make_specs.py
	$(BIN)/pvgen fmt --check
	$(BIN)/pvgen fmt --check specs/linux/*.pvspec
	$(BIN)/pvgen generate --check
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check pvgen tests bench examples specs/linux
	$(BIN)/black --check pvgen tests bench examples specs/linux
	$(BIN)/mypy
	$(BIN)/mypy --strict $(EXAMPLES)
	$(BIN)/mypy specs/linux/make_specs.py

# The peers pvgen is compared with: protoc (with the Python and gRPC plugins) from PyPI,
# and wayland-scanner from Debian's libwayland-bin (installed when apt can; else skipped).
bench: $(STAMP)
	$(BIN)/pip install --quiet 'grpcio-tools>=1.60'
	command -v wayland-scanner >/dev/null 2>&1 || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libwayland-bin >/dev/null 2>&1 || \
		echo "wayland-scanner not installed: its figures are skipped"
	$(BIN)/python bench/run.py

# A long fuzzing run: FUZZ_EXAMPLES mutated specs through check, generate and fmt, half as
# many mutated C headers through import, and a tenth as many random valid specs through
# check, generate, diff, fmt, Python import and gcc.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP)
	PVGEN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_fuzz_valid.py tests/test_hostile.py tests/test_import.py \
		-k "mutated or truncation or valid"

# Regenerate docs/rules.md from the rule registry, and docs/linux/ (one reference page per
# Linux release spec) with `pvgen doc`.
docs: $(STAMP)
	$(BIN)/pvgen rules --markdown > docs/rules.md
	for spec in specs/linux/linux-*.pvspec; do \
		$(BIN)/pvgen doc $$spec -o docs/linux/$$(basename $$spec .pvspec).md || exit 1; \
	done

# Rewrite the golden files of tests/golden from the current code; review the diff.
golden: $(STAMP)
	PVGEN_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/test_golden.py tests/test_gen_c.py \
		tests/test_import.py tests/test_doc.py

# The grammar's LALR tables, shipped as pvgen/parsetables.py, and the Jinja templates compiled
# ahead (pvgen/gen/compiled/): run after editing the grammar or a template (a test fails while
# they are another grammar's or template's).
tables: $(STAMP)
	$(BIN)/python -c 'from pathlib import Path; from pvgen.syntax import write_parse_tables; write_parse_tables(Path("pvgen"))'
	$(BIN)/python -c 'from pathlib import Path; from pvgen.gen.common import write_compiled_templates; write_compiled_templates(Path("pvgen/gen/compiled"))'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
