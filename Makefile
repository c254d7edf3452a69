# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit bench screenshots clean

# pytest-xdist workers for `make unit` (0: one process, in order). More than the cores: most of
# the suite's time is spent waiting on real processes and the product's timers, not computing.
TEST_WORKERS ?= 4

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/chatwootai serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# lint and typecheck run beside the tests: their few lines of output come first, and any failure
# fails `make test` once all three have finished.
test: $(STAMP)
	$(MAKE) --no-print-directory -j 3 lint typecheck unit

# Refresh docs/console/*.png from the console's browser tests.
screenshots: $(STAMP)
	CHATWOOTAI_SCREENSHOTS=docs $(BIN)/pytest tests/console/test_browser.py

bench: $(STAMP)
	$(BIN)/python bench/config_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
