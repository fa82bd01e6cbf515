"""The progress helper every long step calls: n of N, elapsed, estimated remaining, in the run log."""

from __future__ import annotations

import time

import dagster as dg

from genebench_assets.defs.progress import log_progress, progress_message


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
