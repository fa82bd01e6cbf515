"""`genebench materialize` on a terminal shows a progress bar (runs done of N, elapsed, time left, the
run in progress) under the runs' lines, and keeps the runs' Dagster console log off the screen (it goes
to a file in DAGSTER_HOME); the model-fit progress (n of N, elapsed, about ... left) is in the run's
event log. Run as a user runs it: a subprocess whose stdout is a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

pytestmark = pytest.mark.slow


def _read_all(fd: int, proc: subprocess.Popen) -> str:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_and_fit_progress_in_the_run_log(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_DATA_DIR": str(tmp_path / "data"),
           "GENEBENCH_MODELS": "lr,negative_control", "GENEBENCH_FEATURE_SETS": "genes", "COLUMNS": "160"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", "eye"],
                            cwd=tmp_path, env=env, stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(follower)
    screen = _read_all(leader, proc)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.wait(timeout=900)
    os.close(leader)
    assert proc.returncode == 0, screen[-3000:] + stderr[-3000:]
    n = 1 + 3 + 1  # catalog, eye's three studies, the eye tissue
    assert re.search(rf"\b{n}/{n} runs\b", screen), screen[-2000:]
    assert "tissue_job eye" in screen  # the run in progress is named on the bar
    for i in range(1, n + 1):
        assert f"[{i}/{n}] ok" in screen
    # Dagster's per-event console lines are not on the terminal (neither stdout nor stderr) ...
    assert "STEP_START" not in screen and "STEP_START" not in stderr
    # ... but in the log file, and the full event log is in the instance
    assert "STEP_START" in (tmp_path / "home" / "materialize_console.log").read_text()
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path / "home")))
    tissue_run = next(r for r in instance.get_runs() if r.job_name == "tissue_job")
    lines = [e.user_message for e in instance.all_logs(tissue_run.run_id) if "model fits:" in (e.user_message or "")]
    assert lines and re.search(r"eye: model fits: 1 of \d+, elapsed [\d.]+ s, about .* left", lines[0]), lines
    assert lines[-1].endswith("done")
    instance.dispose()
