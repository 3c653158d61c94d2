# Two set-up-free commands on a fresh machine (Python 3.11 + make):
#   make book   create .venv if missing, execute every notebook in the "ci" profile, build _build/html
#   make test   same bootstrap, run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test notebooks clean venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(STAMP)

venv: $(STAMP)

notebooks: $(STAMP)
	$(PY) -m eoretrieval.run --profile ci

book: $(STAMP)
	$(PY) -m eoretrieval.book --profile ci

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf _build runs book/notebooks book/data.md .cache
