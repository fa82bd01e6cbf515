#!/usr/bin/env bash
# Install what the tests need (Python packages and Debian's chromium for the browser test), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# The lock pins what CI tested (scripts/lock.sh refreshes it), so a fresh machine installs the same set.
LOCK=requirements-lock.txt
.venv/bin/pip install --quiet --disable-pip-version-check -c "$LOCK" -e '.[test]'
echo "scripts/test.sh: installed from $LOCK ($(sed -n 's/^# genebench.s tested dependency set: //p' "$LOCK"))"
.venv/bin/python - <<'PY'
from importlib.metadata import version
print("scripts/test.sh: " + ", ".join(f"{p} {version(p)}" for p in
      ("dagster", "pandas", "scikit-learn", "anthropic", "numpy", "scipy", "xgboost-cpu", "lightgbm")))
PY
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "scripts/test.sh: could not install chromium; the browser test will skip"
  else
    echo "scripts/test.sh: chromium not found and not root; the browser test will skip"
  fi
fi
# PostgreSQL for the shared-instance test (issue 14); it skips with the reason when absent.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "scripts/test.sh: could not install postgresql; the PostgreSQL instance test will skip"
  else
    echo "scripts/test.sh: postgresql not found and not root; the PostgreSQL instance test will skip"
  fi
fi
# The code location loads as a dg project (issue 22): dg check defs, as dagster-io's reference projects run it in CI.
DG_HOME=$(mktemp -d) && printf 'telemetry:\n  enabled: false\n' > "$DG_HOME/dagster.yaml"
DAGSTER_HOME=$DG_HOME .venv/bin/dg check defs
# --durations: the slowest tests are printed at the end of every run, so suite time stays visible in CI.
exec .venv/bin/pytest -n 2 --dist loadgroup --durations=25 "$@"
