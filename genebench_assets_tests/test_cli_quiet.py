"""`genebench` commands are quiet and refuse fast (issue 22): a wrong path, task or tissue is refused in one
line before Dagster or the code location is imported; Dagster's BetaWarning / PreviewWarning are filtered
by category in the CLI (nothing else); the dagster.yaml the CLI writes turns telemetry off, so no banner.
With and without a terminal, `genebench materialize` prints the same concise lines:
test_cli_materialize_progress.py."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings

import pytest

from genebench_assets import cli
from genebench_assets_tests.conftest import REPO_ROOT

REFUSALS = [
    ["evaluate", "--submission", "missing.json", "--task", "A5"],
    ["evaluate", "--submission", "missing.json", "--task", "A5", "--release", "no_such_release"],
    ["materialize", "--tissue", "no_such_tissue"],
    ["materialize", "--run-config", "missing.yaml"],
    ["lineage", "--task", "Z9", "--model", "lr"],
    ["lineage", "--task", "A4", "--model", "no_such_model"],
    ["reproduce", "categories", "--release", "no_such_release", "--out", "out"],
    ["export-folds", "--out", "/dev/out"],
]


@pytest.mark.parametrize("argv", REFUSALS, ids=lambda a: " ".join(a))
def test_a_bad_argument_is_refused_in_one_line_before_dagster_is_imported(argv, tmp_path):
    """As a user runs it (a real process); -X importtime lists every module the process imported."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "genebench_assets.cli", *argv], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "home"),
                               "GENEBENCH_DATA_DIR": str(tmp_path / "data")})
    elapsed = time.perf_counter() - t0
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    message = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert proc.returncode == 2 and proc.stdout == "", (proc.returncode, proc.stdout)
    assert len(message) == 1 and message[0].startswith("genebench"), message  # one line, no traceback
    assert "dagster" not in imported and "genebench_assets.definitions" not in imported, sorted(
        m for m in imported if m.startswith(("dagster", "genebench_assets.defs")))
    assert "pandas" not in imported
    assert elapsed < 10, elapsed  # well under 1 s on an idle machine (docs/inputs.md); generous for shared CI


def test_beta_and_preview_warnings_are_filtered_by_category_and_nothing_else():
    import dagster as dg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cli.quiet_dagster_notices()
        warnings.warn("x is currently in beta", dg.BetaWarning)
        warnings.warn("y is currently in preview", dg.PreviewWarning)
        warnings.warn("a user's own warning", UserWarning)
        warnings.warn("superseded", dg.SupersessionWarning)
    assert [str(w.message) for w in caught] == ["a user's own warning", "superseded"]


def test_the_dagster_yaml_the_cli_writes_turns_telemetry_off(tmp_path, monkeypatch):
    from genebench_assets.defs.runtime.run_monitoring import INSTANCE_YAML

    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = cli._instance()
    assert (home / "dagster.yaml").read_text() == INSTANCE_YAML
    assert instance.telemetry_enabled is False and instance.run_monitoring_enabled
    instance.dispose()
    # One written by an earlier genebench (no telemetry setting) is refreshed ...
    old = INSTANCE_YAML.split("# No usage statistics")[0]
    (home / "dagster.yaml").write_text(old)
    cli._instance().dispose()
    assert "telemetry:\n  enabled: false" in (home / "dagster.yaml").read_text()
    # ... a user's own is left alone.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    instance = cli._instance()
    assert instance.telemetry_enabled is True
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"
    instance.dispose()


def test_the_cli_module_imports_no_dagster_at_top_level():
    proc = subprocess.run([sys.executable, "-c", "import sys, genebench_assets.cli; "
                           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pandas')))"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
