#!/usr/bin/env bash
# Installs the Debian packages the system needs (only those missing), so a fresh machine works:
# redis-server, Chromium for the browser tests (Playwright drives it; no browser download) and npm
# for the web pages' pinned socket.io client.
set -euo pipefail
missing=()
for pair in "redis-server:redis-server" "chromium:chromium" "npm:npm"; do
  command_name=${pair%%:*}
  package=${pair##*:}
  command -v "$command_name" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
