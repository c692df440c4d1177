# Kaoping — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KAOPING_HOME := $(CURDIR)

.PHONY: run test setup lint test-sqlite test-postgres demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: $(STAMP) node_modules/.package-lock.json

# Set up everything, create the SQLite database with demo data when it is new, and serve.
run: setup
	@mkdir -p var
	@new=0; [ -f var/kaoping.sqlite3 ] || new=1; \
	DEBUG=1 $(BIN)/kaoping migrate --noinput -v 0; \
	if [ $$new = 1 ]; then DEBUG=1 $(BIN)/kaoping demo; else DEBUG=1 $(BIN)/kaoping demo --logins; fi
	DEBUG=1 $(BIN)/kaoping runserver 127.0.0.1:8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: setup
	env -u DATABASE_URL KAOPING_TESTING=1 $(BIN)/pytest

# PostgreSQL: TEST_DATABASE_URL points at a server where the role may create databases.
test-postgres: setup
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  KAOPING_TESTING=1 DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest --ignore=tests/engine; \
	else echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run (.ci/run sets it)"; fi

# The whole suite: lint, types, tests on SQLite, and on PostgreSQL when one is configured.
test: lint test-sqlite test-postgres

demo: setup
	DEBUG=1 $(BIN)/kaoping migrate --noinput -v 0
	DEBUG=1 $(BIN)/kaoping demo

clean:
	rm -rf var/test*.sqlite3 .pytest_cache test-results
