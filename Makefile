# spvlink: `make demo` and `make test` work on a fresh Debian 12 machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Compilers and the Vulkan CPU driver the tests and the demo use.
APT_PACKAGES := glslc glslang-tools clang-14 llvm-spirv-14 mesa-vulkan-drivers libvulkan1 binutils

.PHONY: all setup apt demo test lint bench fuzz clean

all: test

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory apt
	@echo "== creating the virtual environment $(VENV) ($(PYTHON) -m venv)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip"
	$(BIN)/pip install --progress-bar off --upgrade pip
	@echo "== installing spvlink and its test tools into $(VENV) (about 20 s)"
	$(BIN)/pip install --progress-bar off -e '.[test]'
	touch $@
	@echo "== set-up done: run spvlink as $(BIN)/spvlink, or after '. $(BIN)/activate' as spvlink"

setup: $(VENV)/.installed

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "== installing Debian packages:$$missing"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	else \
	  echo "== Debian packages present: $(APT_PACKAGES)"; \
	fi

demo: setup
	$(BIN)/python tools/demo.py
	@echo "== the linked modules are in demo-out/; spvlink is $(BIN)/spvlink ('. $(BIN)/activate' puts it on PATH)"

lint: setup
	$(BIN)/ruff check src tests tools bench fuzz
	$(BIN)/mypy src/spvlink
	$(BIN)/python tools/gen_spec.py --check

test: lint
	$(BIN)/pytest -n auto

bench: setup
	$(BIN)/python bench/run.py

# A fuzzing campaign on all cores (docs/FUZZING.md): `make fuzz N=100000 SEED=1`.
# Failures are reduced and saved under tests/regressions/fuzz/. More options through
# FUZZ_FLAGS (`FUZZ_FLAGS="--time-budget 600 --json fuzz.json"`; see python -m fuzz -h).
N ?= 10000
SEED ?= 0
FUZZ_FLAGS ?=
fuzz: setup
	$(BIN)/python -m fuzz -n $(N) --seed $(SEED) --save $(FUZZ_FLAGS)

clean:
	rm -rf $(VENV) build demo-out .pytest_cache .mypy_cache .ruff_cache
