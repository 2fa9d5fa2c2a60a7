# WardFlow: the two front-door commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
WITH_SERVICES := $(PY) -m dev.services

.PHONY: run test lint bench bench-scheduler

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

## Start web (http://127.0.0.1:8000), Celery worker and beat in the foreground; Ctrl-C stops everything.
run: $(INSTALLED)
	DEBUG=1 ALERT_EMAIL_ENABLED=1 EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend \
		$(WITH_SERVICES) $(PY) -m dev.server

## Run the whole test suite (lint and migration checks included).
test: $(INSTALLED) lint
	DEBUG=1 $(WITH_SERVICES) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Every performance goal in one table (write path, read paths at 10 and 500 patients, audit at 1,000,000 events,
## scheduler), each on its own scratch database; exits non-zero when a goal is missed. Not part of `make test`.
## `make bench BENCH_ARGS=--quick` for a smaller trial run.
bench: $(INSTALLED)
	DEBUG=1 $(WITH_SERVICES) $(PY) -m dev.bench $(BENCH_ARGS)

## Time one dispatch cycle against 100,000 pending checks (1,000 due); also a row of `make bench`.
bench-scheduler: $(INSTALLED)
	DEBUG=1 $(WITH_SERVICES) $(PY) -m dev.bench.scheduler
