# tailored_cms — `make demo` runs the example site, `make test` runs the whole suite. Both bootstrap what they need.
# `make test-fast` is the lane for working; `make matrix` runs it on every supported Python × Django (noxfile.py).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)

.PHONY: demo test test-fast matrix test-cms bench screenshots docs lint format bootstrap clean

bootstrap: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: bootstrap
	@scripts/ensure-system.sh || true
	@scripts/demo.sh

$(NODE_STAMP): package-lock.json
	@scripts/ensure-node-modules.sh
	@rm -f node_modules/.installed-* && touch $@

test: bootstrap $(NODE_STAMP)
	@scripts/ensure-system.sh --browser
	@scripts/test.sh

# Without the browser, the install and the worker tests, on SQLite (scripts/test-fast.sh). ARGS go to pytest.
test-fast: bootstrap
	@scripts/ensure-system.sh --gettext
	@scripts/test-fast.sh $(ARGS)

# Each supported Python × Django pair in its own virtualenv under .nox/ (docs/versions.md). NOX_ARGS picks sessions.
matrix: bootstrap
	@scripts/ensure-system.sh --gettext
	$(VENV)/bin/nox $(NOX_ARGS)

# A subset of django CMS's own test suite, with tailored_cms installed (docs/cms-suite.md).
test-cms: bootstrap
	@scripts/test-cms.sh

bench: bootstrap
	@scripts/ensure-system.sh --bench
	$(PY) -m bench

screenshots: bootstrap $(NODE_STAMP)
	@scripts/ensure-system.sh --browser
	$(PY) scripts/screenshots.py
	TAILORED_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser/test_editor.py tests/browser/test_editor_preview.py tests/browser/test_segment_builder.py \
		tests/browser/test_personalization_journey.py tests/browser/test_results.py

# The documentation site (docs/conf.py) into docs/_build/html; a warning fails it.
docs: bootstrap
	$(VENV)/bin/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html

lint: bootstrap
	$(VENV)/bin/ruff check tailored_cms tests example_site bench docs/conf.py docs/_ext
	$(VENV)/bin/ruff format --check tailored_cms tests example_site bench docs/conf.py docs/_ext
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy tailored_cms

format: bootstrap
	$(VENV)/bin/ruff format tailored_cms tests example_site bench docs/conf.py docs/_ext
	$(VENV)/bin/ruff check --fix tailored_cms tests example_site bench docs/conf.py docs/_ext

clean:
	rm -rf $(VENV) .nox var .pytest_cache docs/_build node_modules
