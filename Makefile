# newsdesk: `make demo` (install, ingest the sample corpus, serve on 127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install demo serve test test-fast lint format bench chromium clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch from local disk first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(BIN)/newsdesk ingest examples/announcements
	$(BIN)/newsdesk stats
	$(BIN)/newsdesk serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/newsdesk serve --host $(HOST) --port $(PORT)

test: install chromium
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not slow and not browser"

lint: install
	$(BIN)/ruff check ingest rag api eval tests bench
	$(BIN)/ruff format --check ingest rag api eval tests bench
	$(BIN)/mypy ingest rag api eval

format: install
	$(BIN)/ruff check --fix ingest rag api eval tests bench
	$(BIN)/ruff format ingest rag api eval tests bench

bench: install
	$(PY) -m bench.run

clean:
	rm -rf .newsdesk .pytest_cache .mypy_cache .ruff_cache
