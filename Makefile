# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --disable-pip-version-check -q

PYWB_VENV  := .pywb-venv
PYWB_STAMP := $(PYWB_VENV)/.installed

.PHONY: install demo test test-quick lint bench clean browser

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

# report.html is checked in headless Chromium: Debian's chromium and chromium-driver, from apt when missing.
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		|| (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
		|| sudo sh -c 'apt-get update -qq && apt-get install -y -qq chromium chromium-driver'

# The scaleout tests need a real Redis: 127.0.0.1:6379 when it answers, else a private redis-server the test
# session starts on a free loopback port (Debian's package, installed here when missing).
test: lint $(PYWB_STAMP) browser
	.ci/ensure-redis
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The suite without the slow crawls (held-out portals, variation seeds) and the Redis queue tests: a few minutes.
test-quick: lint $(PYWB_STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not scaleout"

# ruff; mypy (strict, [tool.mypy]); the layer contracts of docs/architecture.md ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Benchmarks (docs/benchmarks.md): trafilatura (+ lxml_html_clean), htmldate, FastWARC and py-spy from the `bench`
# extra, scrapy-webarchive in .swa-venv, GNU wget and redis-server (the queue-worker benchmark) from apt. The bench
# extra only adds packages the suite does not import unless present (`make test` passes with or without it).
# Separate from `make test`; about 22 minutes on 2 cores (the 50,000-release crawl and the many-portals curve).
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PIP) install -e '.[test,bench]'
	touch $(BENCH_STAMP)

# The peer of the crawl benchmark, scrapy-webarchive 0.5.3, pins Scrapy<2.12 and warcio 1.7.4: its own virtualenv,
# used only through benchmarks/webarchive_spider.py. Scrapy 2.11 needs a Twisted that still has
# _setAcceptableProtocols (24.3) and a w3lib that still has _safe_chars (2.1).
SWA_VENV  := .swa-venv
SWA_STAMP := $(SWA_VENV)/.installed
$(SWA_STAMP):
	test -x $(SWA_VENV)/bin/python || $(PYTHON) -m venv $(SWA_VENV)
	$(SWA_VENV)/bin/pip --disable-pip-version-check -q install scrapy-webarchive==0.5.3 Twisted==24.3.0 w3lib==2.1.2
	touch $(SWA_STAMP)

bench: $(BENCH_STAMP) $(SWA_STAMP)
	command -v wget >/dev/null || (apt-get update -qq && apt-get install -y -qq wget) \
		|| sudo sh -c 'apt-get update -qq && apt-get install -y -qq wget'
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server) \
		|| sudo sh -c 'apt-get update -qq && apt-get install -y -qq redis-server'
	# bytecode of the project's modules, as a wheel install compiles it (an editable install does not; with
	# PYTHONDONTWRITEBYTECODE set, every crawl would compile ours again: about 0.3 s of CPU a run)
	$(BIN)/python -m compileall -q -j 0 archives crawler pipelines spiders simulator benchmarks
	$(BIN)/python -m benchmarks.run_all
	$(BIN)/python benchmarks/recurring_bench.py --releases 2000

clean:
	rm -rf output .pytest_cache
