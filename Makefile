# Two set-up-free commands on a fresh machine (Python 3.11 + make):
#   make book   create .venv if missing, execute every notebook in the "ci" profile, build _build/html
#   make test   same bootstrap (plus headless Chromium for the browser test, via apt where missing),
#               run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test notebooks clean venv browser

# Headless Chromium + its WebDriver for the real-browser test (tests/test_browser.py), from Debian's
# packages; installed only where missing (needs root and the Debian archive). Override with
# CHROMEDRIVER=/path/to/chromedriver CHROMIUM=/path/to/chromium when they live elsewhere.
CHROMEDRIVER ?= /usr/bin/chromedriver
CHROMIUM     ?= /usr/bin/chromium
export CHROMEDRIVER CHROMIUM

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[all]"
	touch $(STAMP)

venv: $(STAMP)

notebooks: $(STAMP)
	$(PY) -m eoretrieval.run --profile ci

book: $(STAMP)
	$(PY) -m eoretrieval.book --profile ci

$(CHROMEDRIVER):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver
	test -x $(CHROMEDRIVER) && test -x $(CHROMIUM)

browser: $(CHROMEDRIVER)

test: $(STAMP) $(CHROMEDRIVER)
	EORETRIEVAL_REQUIRE_BROWSER=1 $(PY) -m pytest

clean:
	rm -rf _build runs book/notebooks book/data.md book/results.md .cache
