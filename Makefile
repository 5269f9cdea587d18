# The README's commands. Everything a target needs is installed by the target itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test screenshots bench sandbox-down clean

install: $(STAMP)

# Re-installs only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The sandbox (real Kafka, Connect, Redpanda Connect) and an HQ holding its two clusters,
# kept in .streamhq/ so that a re-run reuses them.
run: install
	$(BIN)/streamhq --home .streamhq --sandbox

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

screenshots: install
	$(BIN)/pytest tests/console --snapshot-update -q
	$(BIN)/python -m tests.console.export_screenshots

bench: install
	$(BIN)/python bench/api.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/console_k2k.py
	$(BIN)/python bench/agent.py
	$(BIN)/python bench/replicate.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/connect.py
	$(BIN)/python bench/events.py

sandbox-down: install
	$(BIN)/streamhq sandbox down --home .streamhq

clean:
	-test -x $(BIN)/streamhq && $(BIN)/streamhq sandbox down --home .streamhq
	rm -rf $(VENV) .pytest_cache .streamhq
