#!/usr/bin/env bash
# A subset of django CMS's own test suite (shipped in its wheel), run with tailored_cms installed as
# docs/installation.md says (tests/cms_suite/settings.py): what tailored_cms adds to every site must not break
# django CMS.
# Arguments are passed to pytest. docs/cms-suite.md lists the expected differences; each test deselected here is
# one of them, named with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

MODULES=(test_toolbar test_views test_rendering test_cache test_placeholder test_plugins test_api test_page)
# Deselected, as pytest -k expressions (module, class and test name).
DESELECT=(
    # Counts the toolbar's items for a superuser (5): tailored_cms adds its "Tailoring" menu, a sixth.
    "test_toolbar and ToolbarTests and test_no_page_superuser"
)

args=()
for module in "${MODULES[@]}"; do args+=("cms.tests.$module"); done
keep="not (${DESELECT[0]})"
for test in "${DESELECT[@]:1}"; do keep+=" and not ($test)"; done

echo "== django CMS's own tests (${MODULES[*]}) with tailored_cms installed"
# The site's own pytest configuration (its markers, its settings) is not django CMS's: -c /dev/null drops it.
$PY -m pytest -c /dev/null --rootdir . -p no:cacheprovider -p pytest_django --ds=tests.cms_suite.settings \
    -q -k "$keep" --pyargs "${args[@]}" "$@"
