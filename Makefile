# labkit: `make lab` sets up and opens JupyterLab; `make test` sets up and runs every test.
# Set-up is idempotent: .venv/ is rebuilt only when pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_ARGS ?=

.PHONY: setup lab test bench gpu-check fuzz clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (labkit)" >/dev/null
	@touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/labkit bench --out bench.json

# the GPU path for real (one GPU, a few minutes): mixed precision, cuDNN, NCCL, attribution on CUDA
gpu-check: setup
	$(BIN)/labkit bench --device cuda --check

# byte flips and truncations over thousands of media files: every failure must be a clear LabkitError
fuzz: setup
	LABKIT_FUZZ_FILES=3000 $(BIN)/python -m pytest tests/data/test_fuzz.py -q

clean:
	rm -rf $(VENV) data/cache .pytest_cache
