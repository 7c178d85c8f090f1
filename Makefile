# Retroduce — `make run` and `make test` are all you need from a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: install run test test-fast lint format browser bench demo migrate worker clean lock

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e ".[dev]"
	touch $@

# Debian's Chromium for the browser journeys (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian chromium for the browser tests…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@$(PY) manage.py demo_logins
	@echo "Background worker (imports, ranking, exports) and web server starting on http://$(HOST):$(PORT)/"
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) manage.py qcluster >/tmp/retroduce-worker.log 2>&1 & \
	  $(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(PY) manage.py qcluster

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	@for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Regenerate the pinned constraints after changing pyproject.toml.
lock:
	rm -rf /tmp/retroduce-lock && $(PYTHON) -m venv /tmp/retroduce-lock
	/tmp/retroduce-lock/bin/pip install -q --upgrade pip
	/tmp/retroduce-lock/bin/pip install -q -e ".[dev]"
	/tmp/retroduce-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles
