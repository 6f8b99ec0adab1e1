# The two commands of the README's quick start:
#   make demo   installs dextcore and its bundled plugins, then runs the demo
#   make test   installs the test tools, then runs every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
EDITABLES := -e . $(foreach p,$(PLUGINS),-e $(dir $(p)))

.PHONY: demo test install install-test docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet $(EDITABLES)

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,docs]' $(foreach p,$(PLUGINS),-e $(dir $(p)))

demo: install
	$(BIN)/dextcore demo

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

docs: install-test
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site
