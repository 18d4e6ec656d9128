#!/usr/bin/env bash
# System packages for the browser smoke test (tests/test_browser.py) and readable screenshots:
# Debian's chromium (driven by the Playwright python package; never `playwright install`) and
# Noto CJK fonts. Idempotent and non-interactive: does nothing when both are already present.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
  || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-system-deps: chromium and fonts-noto-cjk already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
/usr/bin/chromium --version || true
