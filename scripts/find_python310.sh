#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (pyenv's first, then the system's), or fails clearly.
set -euo pipefail
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in "$root"/versions/3.10.*; do
    [ -x "$dir/bin/python3.10" ] && candidates+=("$dir/bin/python3.10")
  done
fi
for dir in /root/.pyenv/versions/3.10.* "${HOME:-/root}"/.pyenv/versions/3.10.*; do
  [ -x "$dir/bin/python3.10" ] && candidates+=("$dir/bin/python3.10")
done
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
for python in "${candidates[@]}"; do
  if "$python" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    echo "$python"
    exit 0
  fi
done
echo "error: Rasa 3.6 needs Python 3.10, and none was found (looked in pyenv and on PATH)." >&2
echo "Install it (e.g. 'pyenv install 3.10' or your distribution's python3.10 + python3.10-venv) and retry." >&2
exit 1
