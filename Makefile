# omniretail — the two commands a newcomer needs:
#   make run    create .venv, install, migrate, load the demo retailer, serve on http://127.0.0.1:8000
#   make test   create .venv, install test extras (and Chromium for browser tests when possible), run everything
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	command -v $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2
CHROMIUM := /usr/lib/chromium/chromium

.PHONY: run serve test venv test-venv chromium translations migrate demo bench-list clean

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "omniretail needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test,e2e]"
	@touch $(VENV)/.installed $@

venv: $(VENV)/.installed
test-venv: $(VENV)/.installed-test

translations: $(VENV)/.installed
	$(BIN)/python -m omniretail.web.translations compile

migrate: venv
	$(BIN)/omniretail migrate

demo: migrate
	$(BIN)/omniretail demo

run: venv translations
	$(BIN)/omniretail migrate
	$(BIN)/omniretail demo
	$(BIN)/omniretail serve --host $(HOST) --port $(PORT)

serve: venv
	$(BIN)/omniretail serve --host $(HOST) --port $(PORT)

# Browser tests use Debian's Chromium; install it when we can (root + apt-get), else they skip and say why.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium for the browser tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
				|| echo "could not install chromium: browser tests will be skipped (or fail on CI)"; \
		else echo "chromium not installed and no root/apt-get: browser tests will be skipped"; fi; \
	fi

test: test-venv chromium translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench-list: venv
	$(BIN)/omniretail bench list

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
