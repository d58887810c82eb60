# Everything runs from a local virtual environment made on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo demo-probe test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## demo: set up and scan the bundled fixtures/ (exit 1 from findings is expected here)
demo: $(STAMP)
	@$(BIN)/mtlslint scan fixtures --now 2026-06-01T00:00:00Z; status=$$?; \
	  if [ $$status -gt 1 ]; then exit $$status; fi; \
	  echo; echo "mtlslint exited $$status (1 = findings at or above --fail-on high, as the fixtures are meant to show)."

## demo-probe: start nginx on 127.0.0.1 with fixtures/probe/, probe it live, stop it (needs nginx)
demo-probe: $(STAMP)
	@scripts/demo-probe.sh

## test: set up, lint, type-check and run the test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check mtlslint tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

## bench: the performance benchmarks of docs/performance.md (about 10 minutes; not a test)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
