#!/usr/bin/env bash
# Installs what the browser tests load from npm (package.json, pinned in package-lock.json) into node_modules/,
# npm itself first (Debian's npm) when it is missing. Says what it did. `make test` runs it when package-lock.json
# changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "tailored_cms: npm is missing and cannot be installed here (needs root and apt-get)." >&2
        exit 1
    fi
    echo "tailored_cms: installing npm with apt-get ..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
    echo "tailored_cms: installed npm."
fi

echo "tailored_cms: installing the browser tests' npm packages (package-lock.json) into node_modules/ ..."
npm ci --no-audit --no-fund --loglevel=error
