"""The docs tell a user what a killed run looks like (issue 25; docs/ui.md, linked from the README): it stays STARTED until
`dagster-daemon` runs on the instance, which then marks it FAILURE. The behaviour itself is shown by
defs/runtime/test_run_monitoring.py (a SIGKILLed run is STARTED, then FAILURE once the real daemon runs)."""

from __future__ import annotations

import re

from genebench_assets_tests.conftest import REPO_ROOT


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]


def test_docs_say_a_killed_run_stays_started_until_the_daemon_runs():
    assert "(docs/ui.md)" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    readme = (REPO_ROOT / "docs" / "ui.md").read_text(encoding="utf-8")
    [paragraph] = [p for p in _paragraphs(readme) if "killed" in p and "stays STARTED" in p]
    assert "until `dagster-daemon` runs" in paragraph and "FAILURE" in paragraph, paragraph
    monitoring_test = (REPO_ROOT / "genebench_assets_tests" / "defs" / "runtime" / "test_run_monitoring.py").read_text()
    assert "DagsterRunStatus.STARTED" in monitoring_test and "DagsterRunStatus.FAILURE" in monitoring_test
