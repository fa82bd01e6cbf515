"""The progress helper every long step calls: n of N, elapsed, estimated remaining, in the run log."""

from __future__ import annotations

import time

import dagster as dg

from genebench_assets.defs.runtime.progress import log_progress, progress_message


def test_message_has_count_elapsed_and_remaining():
    assert progress_message(1, 4, t0=0.0, what="liver: model fits", now=10.0) == \
        "liver: model fits: 1 of 4, elapsed 10.0 s, about 30.0 s left"
    assert progress_message(4, 4, t0=0.0, what="x", now=125.0) == "x: 4 of 4, elapsed 2 min 05 s, done"


def test_every_thins_the_log_but_keeps_first_and_last():
    logged = []

    class Log:
        def info(self, msg):
            logged.append(msg)

    class Ctx:
        log = Log()

    t0 = time.perf_counter()
    for i in range(1, 26):
        log_progress(Ctx(), i, 25, t0, "judgements", every=10)
    assert [m.split(":")[1].split(",")[0].strip() for m in logged] == ["1 of 25", "10 of 25", "20 of 25", "25 of 25"]


def test_progress_lines_reach_the_dagster_run_log():
    @dg.asset
    def slow_steps(context) -> None:
        t0 = time.perf_counter()
        for i in range(1, 4):
            log_progress(context, i, 3, t0, "folds")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([slow_steps], instance=instance)
    messages = [e.message for e in instance.all_logs(result.run_id) if e.user_message and "folds:" in e.user_message]
    assert [m.split("folds: ")[1].split(",")[0] for m in messages] == ["1 of 3", "2 of 3", "3 of 3"]
    assert "left" in messages[0] and messages[-1].endswith("done")


def test_weighted_progress_estimates_from_the_work_done_and_thins_by_time():
    from genebench_assets.defs.runtime.progress import Progress

    logged = []

    class Ctx:
        class log:  # noqa: N801 - stands in for context.log
            info = staticmethod(logged.append)

    p = Progress(Ctx(), 4, "fits", weights=[6.0, 2.0, 1.0, 1.0], min_interval=3600)
    p.t0 -= 6.0  # the first (biggest) item took 6 s: 60 % of the expected work
    p.done(0)
    assert logged[0].startswith("fits: 1 of 4, elapsed 6.0 s, about 4.0 s left")  # not 18 s (by count)
    p.done(1)
    p.done(2)
    assert len(logged) == 1  # thinned: less than min_interval since the last line
    p.done(3)
    assert logged[-1].startswith("fits: 4 of 4") and logged[-1].endswith("done")


def test_terminal_progress_without_a_terminal_prints_plain_lines(capsys):
    import io
    import sys

    from genebench_assets.defs.runtime.progress import TerminalProgress

    out = io.StringIO()
    p = TerminalProgress(2, stream=out, tty=False)
    for i in (1, 2):
        with p.running(f"job {i}"):
            print("dagster debug line", file=sys.stderr)
        p.line(f"  [{i}/2] ok  job {i}")
    p.close()
    assert out.getvalue() == "  [1/2] ok  job 1\n  [2/2] ok  job 2\n"
    assert capsys.readouterr().err.count("dagster debug line") == 2  # stderr untouched, as before


def test_terminal_progress_on_a_terminal_draws_a_bar_and_keeps_run_logs_off_it(tmp_path, capsys):
    import io
    import sys

    from genebench_assets.defs.runtime.progress import TerminalProgress

    out, log = io.StringIO(), tmp_path / "console.log"
    p = TerminalProgress(3, stream=out, tty=True, log_path=log)
    for i in (1, 2, 3):
        with p.running(f"study_job liver RR-{i}"):
            print(f"DEBUG event of run {i}", file=sys.stderr)
        p.line(f"  [{i}/3] ok  study_job liver RR-{i}")
    p.close()
    screen = out.getvalue()
    assert "3/3 runs" in screen and "study_job liver RR-2" in screen and "  [3/3] ok  study_job liver RR-3" in screen
    assert "DEBUG event" not in screen and capsys.readouterr().err == ""
    assert log.read_text().splitlines() == [f"DEBUG event of run {i}" for i in (1, 2, 3)]


def test_terminal_progress_shows_why_the_command_stopped(tmp_path, capsys):
    import io
    import sys

    import pytest

    from genebench_assets.defs.runtime.progress import TerminalProgress

    p = TerminalProgress(2, stream=io.StringIO(), tty=True, log_path=tmp_path / "console.log")
    with pytest.raises(SystemExit):
        with p.running("tissue_job liver"):
            print("genebench materialize: --run-config x.yaml: unknown executor 'daks'", file=sys.stderr)
            raise SystemExit(2)
    assert "unknown executor 'daks'" in capsys.readouterr().err
