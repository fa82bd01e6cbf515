"""`genebench materialize` on a terminal shows a progress bar (runs done of N, elapsed, time left, the
run in progress) under the runs' lines, and keeps the runs' Dagster console log off the screen (it goes
to a file in DAGSTER_HOME); the model-fit progress (n of N, elapsed, about ... left) is in the run's
event log. Run as a user runs it: a subprocess whose stdout is a pseudo-terminal, and (CI logs, `nohup`)
one whose stdout and stderr are pipes: the same concise lines, no Dagster event on either stream, no
Beta/Preview warning or telemetry banner, and the log file's path printed (issue 22)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

import dagster as dg
import pytest

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


NOISE = ("STEP_START", "DEBUG", "BetaWarning", "PreviewWarning", "Telemetry:", "Welcome to Dagster")
N_RUNS = 1 + 3 + 1 + 1  # catalog, eye's three studies, the eye tissue, the leaderboards (results_job)


def _env(tmp_path):
    return {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_DATA_DIR": str(tmp_path / "data"),
            "GENEBENCH_MODELS": "lr,negative_control", "GENEBENCH_FEATURE_SETS": "genes", "COLUMNS": "160"}


def _check_quiet_output(tmp_path, out: str, err: str) -> None:
    """The concise lines, with or without a terminal: every run's line, the log path, no Dagster noise."""
    for i in range(1, N_RUNS + 1):
        assert f"[{i}/{N_RUNS}] ok" in out, out[-2000:]
    log = tmp_path / "home" / "materialize_console.log"
    assert f"Dagster's event log goes to {log}" in out, out[:1000]
    for noise in NOISE:  # Dagster's per-event console lines are on neither stream ...
        assert noise not in out and noise not in err, (noise, out[-1500:], err[-1500:])
    assert "STEP_START" in log.read_text()  # ... but in the log file (all events: the instance)


def test_progress_bar_on_a_terminal_and_fit_progress_in_the_run_log(tmp_path, monkeypatch):
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", "eye"],
                            cwd=tmp_path, env=_env(tmp_path), stdout=follower, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    os.close(follower)
    screen = _read_all(leader, proc)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.wait(timeout=900)
    os.close(leader)
    assert proc.returncode == 0, screen[-3000:] + stderr[-3000:]
    n = N_RUNS
    assert re.search(rf"\b{n}/{n} runs\b", screen), screen[-2000:]
    assert "tissue_job eye" in screen  # the run in progress is named on the bar
    _check_quiet_output(tmp_path, screen, stderr)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    instance = dg.DagsterInstance.get()
    tissue_run = next(r for r in instance.get_runs() if r.job_name == "tissue_job")
    lines = [e.user_message for e in instance.all_logs(tissue_run.run_id) if "model fits:" in (e.user_message or "")]
    assert lines and re.search(r"eye: model fits: 1 of \d+, elapsed [\d.]+ s, about .* left", lines[0]), lines
    assert lines[-1].endswith("done")
    instance.dispose()


def test_without_a_terminal_the_same_concise_lines_and_the_events_in_the_log_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "materialize", "--tissue", "eye"],
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check_quiet_output(tmp_path, proc.stdout, proc.stderr)
    assert " runs [" not in proc.stdout  # no progress bar in a log
    assert len(proc.stdout) < 5_000, len(proc.stdout)  # a few lines, not Dagster's ~290 KB of events
