# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create .venv, install the package and Debian's chromium when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Nothing may reach for the internet: tldextract uses its bundled suffix list.
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=
export TLDEXTRACT_CACHE := $(CURDIR)/$(VENV)/tldextract-cache
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export MPLBACKEND := Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv chromium redis test test-fast demo bench lint clean

help:
	@echo "make demo   - audit the embedded synthetic market, write tables, charts and report to demo-out/"
	@echo "make test   - run the test suite (installs everything it needs: chromium, redis-server)"
	@echo "make bench  - detector and crawler benchmarks, ratios against baselines"
	@echo "make lint   - ruff"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian's chromium for the rendering fallback (Playwright's own browser download
# is not reachable here). Installed only when missing and when we are root.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian chromium..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null 2>&1 \
	    || echo "warning: could not install chromium: audits need --render never (or --chromium PATH)"; \
	else echo "warning: /usr/bin/chromium missing and not root: audits need --render never (or --chromium PATH)"; fi

# Debian's redis-server for the shared queue (chanaudit audit --queue, chanaudit worker): the tests start
# their own on a free loopback port, without persistence. Installed only when missing and when we are root.
redis:
	@if command -v redis-server >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian redis-server..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 \
	    || echo "warning: could not install redis-server: the queue's tests fail under CI=true"; \
	else echo "warning: redis-server missing and not root: the queue's tests are skipped (fail under CI=true)"; fi

test: venv chromium redis
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow and not browser"

demo: venv chromium
	$(BIN)/chanaudit demo --out demo-out

bench: venv chromium redis
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo-out .pytest_cache
