# Every target installs what it needs first, so each works on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The floor venv of `make test-min`: runtime dependencies at their declared lowest versions.
MIN := .venv-min
MIN_STAMP := $(MIN)/.installed

.PHONY: install system test test-min check fmt bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Two workers: most of a test's wall time is waiting on sockets and subprocesses, so both cores stay busy.
# (`python -m pytest FILE` alone runs in one process, which is quicker for a few tests.)
PYTEST_WORKERS ?= 2

# The system packages some tests drive for real (Chromium for the report's browser test; PortAudio and a
# PulseAudio server for talk's audio test): each script installs only what is missing (as root, else via sudo)
# and returns at once where everything is there, so `make test` on a new machine needs nothing done by hand.
system:
	bash .ci/system-packages.sh
	bash .ci/audio-packages.sh

test: $(STAMP) system
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# The runtime dependencies exactly at their floors (uv's lowest-direct resolution, checked by
# .ci/check_floors.py), the test tools at their newest with those pinned, and no dev-only package: the few
# tests that need one (google-genai) skip here, and only here (LIVECLI_TEST_MIN=1).
$(MIN_STAMP): pyproject.toml .ci/check_floors.py $(STAMP)
	rm -rf $(MIN)
	$(BIN)/uv venv -q --python $(BIN)/python $(MIN)
	$(BIN)/uv pip install -q --python $(MIN)/bin/python --resolution lowest-direct -e .
	$(BIN)/uv pip freeze -q --python $(MIN)/bin/python --exclude-editable > $(MIN)/floors.txt
	$(BIN)/uv pip install -q --python $(MIN)/bin/python --constraint $(MIN)/floors.txt -e '.[test]'
	$(MIN)/bin/python .ci/check_floors.py
	touch $@

test-min: $(MIN_STAMP) system
	LIVECLI_TEST_MIN=1 $(MIN)/bin/python -m pytest -n $(PYTEST_WORKERS)

check: $(STAMP)
	$(BIN)/ruff format --check livecli tests bench scripts .ci
	$(BIN)/ruff check livecli tests bench scripts .ci
	$(BIN)/mypy --strict livecli
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format livecli tests bench scripts .ci
	$(BIN)/ruff check --fix livecli tests bench scripts .ci

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

demo: $(STAMP)
	$(BIN)/livecli send samples/hello.flac --local -o reply.wav

clean:
	rm -rf $(VENV) $(MIN) .mypy_cache .ruff_cache .pytest_cache .hypothesis reply.wav
