# Two commands do all set-up: `make run` (the app on the bundled default data) and `make test`.
# Both create .venv on first use and reinstall only when setup.cfg, pyproject.toml or
# constraints.txt change. Every version is pinned: pip and setuptools here, everything else by
# constraints.txt (regenerate it with `make constraints` after changing setup.cfg's ranges).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=
PIP_VERSION        := 26.3
SETUPTOOLS_VERSION := 84.2.1
UV_VERSION         := 0.13.9
# --no-build-isolation: build with the pinned setuptools above, not whatever is newest today.
PIP_INSTALL := $(PY) -m pip install --quiet --no-build-isolation -c constraints.txt

.PHONY: run test lint bench clean constraints
.DEFAULT_GOAL := run

$(VENV)/.stamp-install: setup.cfg pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-install
	$(PIP_INSTALL) -e '.[test]'
	@touch $@

# The lock: exact versions of everything setup.cfg (with the test extra) resolves to on Python 3.11.
constraints: $(VENV)/.stamp-install
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile setup.cfg --extra test --python-version 3.11 \
	    --python-platform x86_64-manylinux_2_28 --no-emit-index-url \
	    --custom-compile-command "make constraints" -q -o constraints.txt

# compileall: the app's byte-code, which a shell with PYTHONDONTWRITEBYTECODE set never writes
# (every launch would compile each module from its source: ~0.5 s of a launch here).
run: $(VENV)/.stamp-install
	@$(PY) -m compileall -q main.py engine gui resources
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
	rm -rf $(VENV) *.egg-info build .pytest_cache .hypothesis
