#!/usr/bin/env bash
# Installs the Debian packages the demo, the tests and the bench need, when they are missing: redis-server;
# gettext (msgfmt, msgcat: tests/test_catalogs.py checks the translations with them) when called with --gettext
# (make test-fast, make matrix), with chromium and varnish (varnishd: tests/edge/ put the shipped VCL in front of
# the example site) too when called with --browser (make test); wrk, the HTTP load generator, when called with
# --bench (make bench loads the site served by gunicorn with it, and through varnish). Says what it did.
# Without root or apt-get it only reports.
set -euo pipefail

# Each wanted command, and the Debian package that has it.
want=(redis-server:redis-server)
[[ "${1:-}" == "--browser" || "${1:-}" == "--gettext" ]] && want+=(msgfmt:gettext msgcat:gettext)
[[ "${1:-}" == "--browser" ]] && want+=(chromium:chromium varnishd:varnish)
[[ "${1:-}" == "--bench" ]] && want+=(wrk:wrk varnishd:varnish)

missing=()
for entry in "${want[@]}"; do
    bin=${entry%%:*} package=${entry#*:}
    command -v "$bin" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $package "* ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tailored_cms: missing ${missing[*]} and cannot install it here (needs root and apt-get)." >&2
    exit 1
fi
echo "tailored_cms: installing ${missing[*]} with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "tailored_cms: installed ${missing[*]}."
