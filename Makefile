# spvlink: `make demo` and `make test` work on a fresh Debian 12 machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Compilers and the Vulkan CPU driver the tests and the demo use.
APT_PACKAGES := glslc glslang-tools clang-14 llvm-spirv-14 mesa-vulkan-drivers libvulkan1 binutils

.PHONY: all setup apt demo test lint bench clean

all: test

$(VENV)/.installed: pyproject.toml
	$(MAKE) apt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

demo: setup
	$(BIN)/python tools/demo.py

lint: setup
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy src/spvlink
	$(BIN)/python tools/gen_spec.py --check

test: lint
	$(BIN)/pytest -n auto

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build demo-out .pytest_cache .mypy_cache .ruff_cache
