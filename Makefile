# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --disable-pip-version-check -q

PYWB_VENV  := .pywb-venv
PYWB_STAMP := $(PYWB_VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[test]'
	touch $(STAMP)

# pywb pins redis==2.10.6 and brings brotlipy (which shadows the brotli module Scrapy needs): its own virtualenv,
# used only through its command line (wb-manager, wayback) by the replay tests.
$(PYWB_STAMP):
	test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/pip --disable-pip-version-check -q install pywb==2.10.0
	touch $(PYWB_STAMP)

install: $(STAMP) $(PYWB_STAMP)

demo: $(STAMP)
	$(BIN)/crawler demo --releases 300 --out output/demo

test: $(STAMP) $(PYWB_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf output .pytest_cache
