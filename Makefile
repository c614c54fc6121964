# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install dev demo test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/activate requirements.txt pyproject.toml
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
dev: $(VENV)/.dev

demo: install  ## set-up + the main job on the embedded default (replay -> NLP -> SQLite -> alerts -> report)
	$(BIN)/vigie demo

test: dev  ## set-up + the whole test suite
	$(PY) -m pytest

bench: dev  ## benchmark scripts (figures quoted in the README)
	$(PY) bench/score.py
	$(PY) bench/demo_time.py

clean:
	rm -rf $(VENV) out .pytest_cache

.PHONY: airflow
airflow: install  ## Airflow standalone on 127.0.0.1:8080 with Vigie's DAGs and the demo config (VIGIE_CONFIG=... to change)
	dags/standalone.sh
