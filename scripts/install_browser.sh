#!/usr/bin/env bash
# Install headless Chromium and its matching WebDriver from Debian for tests/web (CI calls this).
# Idempotent: does nothing when both binaries are already present. Needs root (or sudo) and apt.
#
#   scripts/install_browser.sh            # install if missing
#   FORCE=1 scripts/install_browser.sh    # reinstall / upgrade anyway
set -euo pipefail

PACKAGES=(chromium chromium-driver)

have_browser() {
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
}

if [[ "${FORCE:-0}" != "1" ]] && have_browser; then
    echo "chromium and chromedriver already installed: $(chromium --version 2>/dev/null | head -n1)"
    exit 0
fi

fail() { echo "scripts/install_browser.sh: $1; install chromium and chromium-driver yourself" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || fail "no apt-get on this machine"
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || fail "not root and no sudo"
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "${PACKAGES[@]}"

have_browser || { echo "chromium or chromedriver still missing after install" >&2; exit 1; }
echo "installed: $(chromium --version 2>/dev/null | head -n1); $(chromedriver --version | head -n1)"
