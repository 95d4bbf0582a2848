# Developer entry points. Every target that needs the database runs
# scripts/bootstrap.sh first (fast when everything is in place). The
# environment (DATABASE_URL, HOST, PORT, WEB_CONCURRENCY, ...) is passed through.
#
#   make run        migrate, collect static files, load demo data, serve
#   make test       run the test suite (PYTEST_ARGS="-k foo -x" to narrow it)
#   make lint       ruff (check, format), import-linter (the layers), mypy
#   make bench      run every bench/*_bench.py (affected first: fanout reuses its data)
#   make stop-db    stop the private PostgreSQL cluster
#   make clean      remove .venv and .local/static (keeps the database)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: help bootstrap run test lint bench stop-db clean

help:
	@sed -n 's/^#   /  /p' $(firstword $(MAKEFILE_LIST))

bootstrap:
	scripts/bootstrap.sh

run: bootstrap
	$(PYTHON) manage.py migrate --noinput
	$(PYTHON) manage.py collectstatic --noinput -v0
	$(PYTHON) manage.py load_demo
	scripts/serve.sh

# The browser tests need Chromium and its driver: the bootstrap installs them for the tests only.
test:
	BOOTSTRAP_BROWSER=1 scripts/bootstrap.sh
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# mypy's Django plugin imports the settings, which refuse to load without their
# variables: placeholders (never used to connect or decrypt) let it run on a fresh clone.
LINT_SETTINGS := SECRET_KEY=lint-only DATABASE_URL=postgres://lint@localhost/lint \
	MASTER_KEYS=1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= BLIND_INDEX_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
	KEY_PROVIDER=consular.keys.EnvironmentKeyProvider

lint:
	@scripts/bootstrap.sh venv >/dev/null
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	$(LINT_SETTINGS) .venv/bin/mypy

bench: bootstrap
	@shopt -s nullglob; files=(bench/*_bench.py); \
	if (( $${#files[@]} == 0 )); then echo "bench: no bench/*_bench.py scripts, nothing to run"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "bench: $$f"; $(PYTHON) "$$f"; done

stop-db:
	scripts/bootstrap.sh stop-db

clean:
	rm -rf .venv .local/static
