#!/usr/bin/env bash
# Installs the Debian packages the system needs (only those missing), so a fresh machine works.
set -euo pipefail
missing=()
for pair in "redis-server:redis-server"; do
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
