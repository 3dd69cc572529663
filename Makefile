# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DB ?= demo/logkit.duckdb

.PHONY: demo test lint format bench system-deps clean

# The Rust core (src/) is built by maturin, in release mode, as part of the install; both are
# redone whenever pyproject.toml or the core's sources change. Rust and cargo must be installed.
CORE_SOURCES := Cargo.toml Cargo.lock $(shell find src -name '*.rs')
# cargo test/clippy build PyO3 against the venv's interpreter, as maturin does.
export PYO3_PYTHON := $(abspath $(BIN)/python)

$(VENV)/.installed: pyproject.toml $(CORE_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	@mkdir -p demo && rm -f $(DEMO_DB) $(DEMO_DB).wal
	$(BIN)/logkit --db $(DEMO_DB) ingest sample_logs/
	$(BIN)/logkit --db $(DEMO_DB) trace 4bf92f35 --format table
	$(BIN)/logkit --db $(DEMO_DB) errors --format table
	$(BIN)/logkit --db $(DEMO_DB) export --textfile demo/logkit.prom
	@echo "metrics written to demo/logkit.prom:" && head -n 20 demo/logkit.prom

system-deps:
	@scripts/system-deps.sh
	@scripts/real-logs-deps.sh

test: $(VENV)/.installed system-deps
	cargo test --quiet
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cargo fmt

bench: $(VENV)/.installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_floor.py
	$(BIN)/python bench/mask_stream.py
	$(BIN)/python bench/queries.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/scale.py 1M
	$(BIN)/python bench/lake.py

clean:
	rm -rf demo .pytest_cache build dist *.egg-info target logkit/_core*.so
