#!/usr/bin/env bash
# Browser tests: Playwright (npm playwright-core) driving Debian's Chromium against `armory serve
# --demo` (the debug binary `cargo test` builds, or ARMORY_BIN). Prints `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "e2e: Chromium is missing: install Debian's package (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
fi
if [ ! -d node_modules/playwright-core ]; then
    npm ci --no-audit --no-fund
fi
node run.js
