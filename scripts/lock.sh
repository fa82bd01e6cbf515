#!/usr/bin/env bash
# Refresh requirements-lock.txt: the exact versions a fresh machine installs (README's two commands and
# .ci/run install with `-c requirements-lock.txt`). pyproject.toml keeps the ranges a library user needs;
# this file pins what CI tested. Resolves '.[test]' afresh in a throwaway venv, so it picks up the newest
# versions the ranges allow. Run the suite on the result (bash scripts/test.sh) before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check -e '.[test]'
{
  echo "# genebench's tested dependency set: written by scripts/lock.sh on $(date -u +%Y-%m-%d) with $("$tmp/venv/bin/python" -V)."
  echo "# Used as a constraints file: pip install -c requirements-lock.txt -e '.[test]'"
  "$tmp/venv/bin/pip" freeze --exclude-editable --disable-pip-version-check | LC_ALL=C sort -f
} > requirements-lock.txt.new
mv requirements-lock.txt.new requirements-lock.txt
echo "scripts/lock.sh: wrote requirements-lock.txt ($(grep -vc '^#' requirements-lock.txt) packages)"
