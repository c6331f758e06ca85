# Every target installs what it needs first, so each works on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test check fmt bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff format --check livecli tests bench scripts
	$(BIN)/ruff check livecli tests bench scripts
	$(BIN)/mypy --strict livecli
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format livecli tests bench scripts
	$(BIN)/ruff check --fix livecli tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

demo: $(STAMP)
	$(BIN)/livecli send samples/hello.flac --local -o reply.wav

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis reply.wav
