# Two commands do all set-up: `make run` (the app on the bundled default data) and `make test`.
# Both create .venv on first use and reinstall only when setup.cfg or pyproject.toml change.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test lint bench clean
.DEFAULT_GOAL := run

$(VENV)/.stamp-install: setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-install
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.stamp-install
	$(PY) main.py $(ARGS)

test: $(VENV)/.stamp-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/lint-imports

lint: $(VENV)/.stamp-test
	$(VENV)/bin/lint-imports

bench: $(VENV)/.stamp-install
	$(PY) benchmarks/bench_engine.py --json bench-engine.json
	$(PY) benchmarks/bench_data.py --json bench-data.json
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_ui.py --json bench-ui.json

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
