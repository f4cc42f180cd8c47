#!/usr/bin/env bash
# Debian's Chromium for the browser test of examples/desk (chromedp drives
# it headless). Installed when missing. The package lists are refreshed
# only when the install cannot find the package, so that a run where
# .ci/run already refreshed them does not do it twice.
#
#   .ci/chromium.sh    install chromium unless it is there
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 chromium >/dev/null
}
if ! install; then
  apt-get update -qq
  install
fi
command -v chromium
