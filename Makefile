# The two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test install test-install serve bench clean i18n

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

BABEL_KEYWORDS := -k _l -k lazy_gettext -k pgettext:1c,2 -k lazy_pgettext:1c,2 -k LtiError:1 -k LoginError:1 -k LaunchError:1 -k ReplayError:1 \
	-k RegistrationLookupError:1 -k DynamicRegistrationError:1 -k ServiceError:1 -k NetworkError:1
CATALOG := lti_tool/translations

## make i18n: extract UI strings, update the German catalog, compile it
i18n: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output -o $(CATALOG)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) -l de --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOG) -l de --statistics
