# Two front doors (see README): `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DB ?= data/demo.duckdb
PORT ?= 8501

.PHONY: run test setup setup-test browser lint format demo clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

$(DEMO_DB): | setup
	$(VENV)/bin/coalition demo --db $(DEMO_DB)

demo: $(DEMO_DB)

## Set up, build the synthetic demo database if it is missing, and start the app on it.
run: setup demo
	COALITION_DB=$(DEMO_DB) $(VENV)/bin/streamlit run app.py --server.port $(PORT)

## Debian's Chromium and CJK fonts for the real-browser tests (needs root; skipped otherwise).
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "chromium is missing and this is not root: browser tests will be skipped"; fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Set up everything and run the whole test suite (lint first).
test: setup browser lint
	$(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(DEMO_DB) $(DEMO_DB).wal
