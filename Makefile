# spamops: `make up` runs the platform on the embedded default (Parquet + SQLite); `make test` runs the tests.
SHELL := /bin/bash
# The venv's interpreter. The platform's CPU goes mostly to CPython's eval loop, so its build matters:
# Debian's python3.11, like the python:3.11 image the Dockerfile ships, is built with profile-guided
# optimisation; a source build without --enable-optimizations (pyenv's default) cost 15 % more CPU per
# ingested message (docs/benchmarks.md). Any other Python 3.11 works: `make setup PYTHON=python3.11`.
SYSTEM_PYTHON := /usr/bin/python3.11
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import ensurepip, venv' 2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
# Feast's CLI runs optimised, as every platform process does (ops/topology.py: OPTIMISED_ENV).
FEAST := PYTHONOPTIMIZE=1 $(VENV)/bin/feast
RUN := .run
TOKENIZER := models/model2_2020/tokenizer/tokenizer.json
SOURCES := feature_repo/data/sms_features1.parquet
REGISTRY := feature_repo/data/registry.db
MATERIALIZED := feature_repo/data/.materialized
MODELS := models/model1_2019/metadata.json models/model2_2020/metadata.json models/model3_2021/metadata.json
export PYTHONUNBUFFERED := 1

.PHONY: setup browser data tokenizer sources apply materialize models env up down test lint bench clean lock

setup: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	# The optimised bytecode the platform's processes load (pip writes only the plain one).
	$(PY) -O -m compileall -q -j 0 $(VENV)/lib > /dev/null
	touch $@

data: raw_data/raw_dataset.csv
raw_data/raw_dataset.csv: | $(VENV)/.installed
	$(PY) scripts/get_data.py

tokenizer: $(TOKENIZER)
$(TOKENIZER): raw_data/raw_dataset.csv
	$(PY) scripts/fit_tokenizer.py

sources: $(SOURCES)
$(SOURCES): raw_data/raw_dataset.csv $(TOKENIZER)
	$(PY) scripts/build_offline_sources.py

apply: $(REGISTRY)
$(REGISTRY): $(SOURCES) $(wildcard feature_repo/*.py) feature_repo/feature_store.yaml
	$(FEAST) -c feature_repo apply
	touch $@

# The 2019 load first (v1 + labels only), then the incremental run that brings the 2020 v2 rows online.
materialize: $(MATERIALIZED)
$(MATERIALIZED): $(REGISTRY)
	$(FEAST) -c feature_repo materialize 2009-01-01T00:00:00 2019-12-31T00:00:00
	$(FEAST) -c feature_repo materialize-incremental $$(date -u +%Y-%m-%dT%H:%M:%S)
	touch $@

models: $(MODELS)
models/model1_2019/metadata.json: $(REGISTRY) notebooks/train_model_1_2019.ipynb
	$(PY) scripts/run_notebook.py notebooks/train_model_1_2019.ipynb
models/model2_2020/metadata.json: $(REGISTRY) $(TOKENIZER) notebooks/train_model_2_2020.ipynb
	$(PY) scripts/run_notebook.py notebooks/train_model_2_2020.ipynb
models/model3_2021/metadata.json: $(REGISTRY) $(TOKENIZER) notebooks/train_model_3_2021.ipynb
	$(PY) scripts/run_notebook.py notebooks/train_model_3_2021.ipynb

# A local .env with fresh API keys (shared, web, inbox, ops); an existing one only gets missing variables.
env: | $(VENV)/.installed
	$(PY) -m ops.env_file .env .env.example

up: env $(MATERIALIZED) $(MODELS)
	$(PY) scripts/init_user_data.py
	$(PY) scripts/launch.py up
	$(PY) scripts/backfill_features.py fiona max

down:
	$(PY) scripts/launch.py down

# Debian's chromium + chromedriver for the web client's browser test (skips the install when present).
browser:
	bash scripts/install_browser.sh

test: $(VENV)/.installed browser
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Every benchmark in docs/benchmarks.md, against the platform `make up` runs (the inbox needs the key in .env).
bench: up
	$(PY) scripts/bench_serving.py --inference --requests 2000
	$(PY) scripts/bench_serving.py --endpoint text_to_prediction --requests 3000
	$(PY) scripts/bench_serving.py --endpoint sms_to_prediction --requests 3000
	$(PY) scripts/bench_serving.py --endpoint text_to_prediction --concurrency 16 --requests 10000
	$(PY) scripts/bench_serving.py --endpoint text_to_prediction --versions v3 --concurrency 16 --requests 10000
	set -a && . ./.env && set +a && $(PY) scripts/bench_realtime.py --requests 300
	$(PY) scripts/bench_feature_store.py

lock:
	(echo "# Full pinned dependency tree: pip freeze of a venv built from requirements.txt (make lock)."; $(VENV)/bin/pip freeze --exclude-editable) > requirements.lock

clean: down
	rm -rf raw_data/raw_dataset.csv feature_repo/data/* feature_repo/data/.materialized models/model*/ $(RUN)
