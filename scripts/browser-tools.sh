#!/usr/bin/env bash
# Installs Debian's headless browser for the dashboard's browser test (DashboardBrowserTest):
# chromium and chromium-driver from apt. Idempotent and quick when both are there; nothing
# downloads a browser of its own. Needs root (apt-get), as CI and the developers' machines are.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
echo "browser-tools: installing chromium and chromium-driver (apt)"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
/usr/bin/chromium --version
