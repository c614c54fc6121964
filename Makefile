# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# torch's CPU-only build (torch==2.13.0+cpu in requirements.txt) is on PyTorch's index, not on PyPI.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: install dev demo test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The demo's needs only: the core dependencies of pyproject.toml, at requirements.txt's pins (no Airflow, torch,
# transformers, spaCy or Elasticsearch client).
$(VENV)/.core: $(BIN)/activate requirements.txt pyproject.toml
	$(PY) -m pip install --quiet -c requirements.txt -e .
	touch $@

# Everything: requirements.txt (every extra, pinned), the test tools and the project. torch first, alone, with
# PyTorch's CPU index: only that one lookup goes to the extra index, and the CPU build is what the next step finds.
$(VENV)/.full: $(BIN)/activate requirements.txt requirements-dev.txt pyproject.toml
	$(PY) -m pip install --quiet --no-deps --extra-index-url $(TORCH_INDEX) -c requirements.txt torch
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt -e .
	touch $@ $(VENV)/.core

install: $(VENV)/.core
dev: $(VENV)/.full

demo: install  ## light set-up + the main job on the embedded default (replay -> NLP -> SQLite -> alerts -> report)
	$(BIN)/vigie demo

test: dev  ## full set-up + the whole test suite
	$(PY) -m pytest

bench: dev  ## benchmark scripts (figures quoted in the README)
	$(PY) bench/score.py
	$(PY) bench/demo_time.py

clean:
	rm -rf $(VENV) out .pytest_cache

.PHONY: airflow
airflow: dev  ## Airflow standalone on 127.0.0.1:8080 with Vigie's DAGs and the demo config (VIGIE_CONFIG=... to change)
	dags/standalone.sh
