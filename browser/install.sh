#!/usr/bin/env bash
# Installs what the browser stories need, if it is missing: Node.js, Debian's Chromium,
# and playwright-core and axe-core from browser/package-lock.json (`npm ci`). Run by the
# test command in README.md before `cargo test`. Where something cannot be installed
# (no root for apt-get, no registry), it says so and the stories skip loudly, unless
# CONCORDAT_REQUIRE_BROWSER=1 (as CI sets), when it fails.
set -uo pipefail
cd "$(dirname "$0")"

required() { [ "${CONCORDAT_REQUIRE_BROWSER:-}" = 1 ] || [ "${CONCORDAT_REQUIRE_BROWSER:-}" = true ]; }
give_up() {
  echo "browser/install.sh: $1" >&2
  if required; then exit 1; fi
  echo "browser/install.sh: the browser stories will be skipped" >&2
  exit 0
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || { sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
      return
    fi
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js (Debian's nodejs and npm)"
  apt_install nodejs npm || give_up "Node.js is missing and could not be installed (apt-get needs root)"
fi

chromium=${CONCORDAT_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "installing Chromium (Debian's chromium)"
  apt_install chromium || give_up "no Chromium at $chromium, and it could not be installed (apt-get needs root)"
fi

# npm ci again only when the lockfile is newer than what it installed.
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing playwright-core and axe-core (npm ci, from browser/package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || give_up "npm ci failed in browser/"
fi
echo "browser stories: $("$chromium" --version 2>/dev/null | head -n 1), Node.js $(node --version)"
