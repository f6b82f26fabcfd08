#!/usr/bin/env bash
# Makes (or reuses) the Python venv with scripts/python-requirements.txt installed from PyPI,
# under the dev cache, and prints its python. Used by scripts/test.sh and the benchmarks.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${KAFKUP_CACHE:-$HOME/.cache/kafkup-dev}
venv="$cache/py"
req="$repo/scripts/python-requirements.txt"
stamp="$venv/.requirements"
if ! cmp -s "$req" "$stamp" 2>/dev/null || ! [ -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  # Debian's python3, whose venv module the python3-venv package brings.
  py=/usr/bin/python3
  [ -x "$py" ] || py=$(command -v python3)
  "$py" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  cp "$req" "$stamp"
fi
echo "$venv/bin/python"
