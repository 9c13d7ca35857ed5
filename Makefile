# Two commands do all the set-up on a machine with Python 3.11 and make:
#   make run   - create .venv, install, run the nightly DAG once through Airflow on the bundled sample day
#   make test  - create .venv, install, run the whole test suite; PostgreSQL and Redis come from the venv,
#                Debian's chromium for the UI test is installed when it can be (tests/support/system-packages.sh)
# and for work on the code:
#   make test-fast - the tests that start no server process and are not slow, on every core (about 3 minutes on 2)
#   make lint      - ruff (lint and format) and mypy, as CI runs them
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAMPLE_DAY := 2021-04-07
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export URDU_ETL_HOME ?= $(CURDIR)
export URDU_ETL_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test test-fast lint format install system-packages clean samples

# the package is installed editable: the DAG, the plugin and `urdu-etl` import this checkout's etl/
$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	@mkdir -p $(URDU_ETL_DATA_DIR)/logs
	@echo "Migrating the Airflow metadata DB (SQLite, $(AIRFLOW_HOME)) and creating the DAG's pool..."
	@{ $(BIN)/airflow db migrate && $(BIN)/airflow pools import config/pools.json; } \
		> $(URDU_ETL_DATA_DIR)/logs/airflow-db-migrate.log 2>&1 || \
		{ tail -n 40 $(URDU_ETL_DATA_DIR)/logs/airflow-db-migrate.log; exit 1; }
	@echo "Running DAG urdu_news_nightly for $(SAMPLE_DAY) (log: $(URDU_ETL_DATA_DIR)/logs/make-run.log)..."
	@$(BIN)/airflow dags test urdu_news_nightly -c '{"date": "$(SAMPLE_DAY)"}' > $(URDU_ETL_DATA_DIR)/logs/make-run.log 2>&1 || \
		{ tail -n 60 $(URDU_ETL_DATA_DIR)/logs/make-run.log; exit 1; }
	@$(BIN)/urdu-etl summary --date $(SAMPLE_DAY)

# system packages first, so a machine that lacks them stops at once, not after the install
test: system-packages $(VENV)/.installed
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not services and not slow" -n auto

system-packages:
	@bash tests/support/system-packages.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

samples: $(VENV)/.installed
	$(BIN)/python samples/make_dumps.py

clean:
	rm -rf data .airflow
