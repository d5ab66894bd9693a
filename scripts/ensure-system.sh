#!/usr/bin/env bash
# Installs the Debian packages the demo, the tests and the bench need, when they are missing: redis-server;
# with --browser (make test) chromium (browser tests) and gettext (msgfmt: the catalogs' tests); wrk, the HTTP
# load generator, when called with --bench (make bench loads the site served by gunicorn with it). Says what it
# did. Without root or apt-get it only reports.
set -euo pipefail

# command:package (the package that installs the command)
want=(redis-server:redis-server)
[[ "${1:-}" == "--browser" ]] && want+=(chromium:chromium msgfmt:gettext)
[[ "${1:-}" == "--bench" ]] && want+=(wrk:wrk)

missing=()
for pair in "${want[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
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
