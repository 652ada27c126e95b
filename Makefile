# Developer entry points. `make install` creates .venv/ with everything the tests need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: install test test-vllm lint bench build finetune clean

$(BIN)/datagen: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,serve]'
	touch $(BIN)/datagen

install: $(BIN)/datagen

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python benchmarks/run.py

build: install
	$(BIN)/datagen build --task all --diverse --out $(or $(OUT),out) --overwrite

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
