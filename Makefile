# The two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test install test-install serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

## make demo: install, prepare the SQLite database, start tool + demo LMS
demo: install
	$(BIN)/lms-bridge demo run --host $(HOST) --port $(PORT)

## make test: install test extras and run the whole suite
test: test-install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve: install
	$(BIN)/lms-bridge db upgrade
	$(BIN)/lms-bridge serve --host $(HOST) --port $(PORT)

bench: test-install
	$(BIN)/python bench/launches.py

clean:
	rm -rf $(VENV) instance .pytest_cache
