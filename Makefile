# The two commands of the quick start: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PORT ?= 8000
# Test processes of `make test` (the machine's cores; 1 runs everything in one process).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The first Python 3.12+ found, 3.12 preferred (what the pins are tested with): on PATH, then under pyenv.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3 python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$p; break; }; done)

.PHONY: run test worker lint messages install migrate seed lock clean bench bench-scale

$(STAMP): requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 / python3.13 on PATH)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: export DEBUG ?= 1
run: install
	@command -v msgfmt >/dev/null && $(PY) manage.py compilemessages -v 0 --ignore=.venv || true
	@# The system checks first, where they are seen (e.g. no Chinese font installed: PDFs would show boxes).
	$(PY) manage.py check
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	@command -v msgfmt >/dev/null && $(PY) manage.py compilemessages -v 0 --ignore=.venv || true
	@# PostgreSQL and Redis of the environment, else the local ones when they answer, else a throwaway
	@# PostgreSQL from a pip-installed wheel in var/ (stopped afterwards); no Redis skips the real-worker tests.
	@# Two phases: most tests on TEST_WORKERS processes (each its own database), then the browser and
	@# real-worker tests one at a time (a real Celery worker would take other processes' tasks).
	$(PY) scripts/test_services.py -- $(PY) -m pytest -n $(TEST_WORKERS) -m "not browser and not worker" $(PYTEST_ARGS)
	$(PY) scripts/test_services.py -- $(PY) -m pytest -m "browser or worker" $(PYTEST_ARGS) || test $$? -eq 5

worker: install
	@mkdir -p var
	$(PY) -m celery -A config worker --beat --schedule var/celerybeat-schedule --loglevel=INFO --concurrency=2

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=staticfiles
	$(PY) manage.py compilemessages --ignore=.venv

lock: install
	$(PY) -m pip freeze --exclude-editable > requirements.txt

bench: install
	$(PY) bench/run.py

bench-scale: install
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
