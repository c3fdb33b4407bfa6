# The two commands of the README's quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint unit chaos bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("userbus needs Python 3.11+" if sys.version_info < (3, 11) else 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,speed]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	./scripts/ensure-rabbitmq
	$(BIN)/userbus demo

test: $(STAMP) lint
	./scripts/ensure-rabbitmq
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not rabbitmq and not chaos"

chaos: $(STAMP)
	./scripts/ensure-rabbitmq
	$(BIN)/pytest -m chaos

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	./scripts/ensure-rabbitmq
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
