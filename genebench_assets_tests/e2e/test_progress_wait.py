"""The progress-following wait of the end-to-end tests (progress.py), on fake status and event sources
and a fake clock: no server, no sleeping. A slow run that keeps making progress is waited for past any
fixed limit; a stuck one fails after the idle limit, naming the run, its status and its last event."""

from __future__ import annotations

import pytest

from genebench_assets_tests.e2e.progress import (
    Observation,
    RunEventTracker,
    StalledWait,
    wait_with_progress,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeDagster:
    """Runs whose status and events change on a script: {time: (run_id, status, event or None)}."""

    def __init__(self, clock: FakeClock, script: list[tuple[float, str, str, tuple[str, str] | None]]):
        self.clock, self.script = clock, sorted(script, key=lambda s: s[0])
        self.status: dict[str, str] = {}
        self.events: dict[str, list[dict]] = {}
        self.fetches = 0

    def _apply(self) -> None:
        while self.script and self.script[0][0] <= self.clock.now:
            t, rid, status, event = self.script.pop(0)
            self.status[rid] = status
            if event:
                self.events.setdefault(rid, []).append(
                    {"type": event[0], "message": event[1], "step": None, "timestamp": 1_700_000_000.0 + t})

    def run_ids(self) -> list[str]:
        self._apply()
        return list(self.status)

    def fetch(self, requests):
        self.fetches += 1
        self._apply()
        out = {}
        for rid, cursor in requests.items():
            start = int(cursor or 0)
            events = self.events.get(rid, [])[start:]
            out[rid] = {"status": self.status[rid], "job_name": "__ASSET_JOB", "partition": "RR-1|gastrocnemius",
                        "events": events, "cursor": str(start + len(events)), "has_more": False}
        return out


def _wait_for_runs(fake: FakeDagster, clock: FakeClock, idle: float, ceiling: float = 3600.0):
    tracker = RunEventTracker(fake.fetch)

    def observe() -> Observation:
        ids = fake.run_ids()
        tracker.update(ids)
        done = bool(ids) and all(r.status in ("SUCCESS", "FAILURE", "CANCELED") for r in tracker.runs.values())
        return Observation(done=done, progress=tracker.fingerprint(), value=dict(fake.status),
                           summary=f"{len(ids)} runs")

    return wait_with_progress(observe, what="backfill b1", idle_timeout=idle, ceiling=ceiling, poll=5.0,
                              describe_stuck=tracker.stuck_report, clock=clock, sleep=clock.sleep)


def test_slow_but_progressing_runs_are_waited_for_past_any_fixed_limit():
    """An event every 200 s for 2,000 s: far beyond the old 330 s limit, never 300 s idle."""
    clock = FakeClock()
    script = [(0, "r1", "STARTING", ("RUN_STARTING", "Started process for run"))]
    script += [(200.0 * i, "r1", "STARTED", ("STEP_START", f"step {i}")) for i in range(1, 10)]
    script += [(2000.0, "r1", "SUCCESS", ("RUN_SUCCESS", "Finished execution of run"))]
    fake = FakeDagster(clock, script)
    assert _wait_for_runs(fake, clock, idle=300.0) == {"r1": "SUCCESS"}
    assert clock.now >= 2000.0


def test_a_new_run_or_a_status_change_is_progress_too():
    clock = FakeClock()
    fake = FakeDagster(clock, [
        (0, "r1", "QUEUED", ("RUN_ENQUEUED", "")),
        (250, "r1", "STARTING", None),           # status change, no event
        (500, "r2", "QUEUED", None),             # a new run, no event
        (750, "r1", "SUCCESS", ("RUN_SUCCESS", "")),
        (760, "r2", "SUCCESS", ("RUN_SUCCESS", "")),
    ])
    assert _wait_for_runs(fake, clock, idle=300.0) == {"r1": "SUCCESS", "r2": "SUCCESS"}


def test_a_stuck_run_fails_after_the_idle_limit_naming_it_and_its_last_event():
    clock = FakeClock()
    fake = FakeDagster(clock, [
        (0, "done-run", "STARTED", ("RUN_START", "Started execution of run")),
        (0, "stuck-run", "QUEUED", ("RUN_ENQUEUED", "")),
        (10, "done-run", "SUCCESS", ("RUN_SUCCESS", "Finished execution of run")),
        (20, "stuck-run", "STARTING", ("ENGINE_EVENT", "Started process for run (pid: 4242).")),
        (30, "queued-run", "QUEUED", ("RUN_ENQUEUED", "")),
    ])
    with pytest.raises(StalledWait) as err:
        _wait_for_runs(fake, clock, idle=300.0)
    msg = str(err.value)
    assert clock.now == pytest.approx(330.0, abs=5.0)  # 300 s after the last change, not later
    assert msg.startswith("backfill b1: no progress for 300s (idle limit 300s)"), msg
    stuck = next(line for line in msg.splitlines() if "stuck:" in line)
    assert "run stuck-run" in stuck and "STARTING" in stuck, stuck
    assert "last event ENGINE_EVENT" in stuck and "Started process for run (pid: 4242)." in stuck, stuck
    assert "done-run" not in msg  # finished runs are not suspects
    assert "queued-run" in msg  # listed as unfinished, after the stuck one


def test_a_run_without_any_event_is_reported_as_such():
    clock = FakeClock()
    fake = FakeDagster(clock, [(0, "silent", "STARTING", None)])
    with pytest.raises(StalledWait, match=r"stuck: run silent \(__ASSET_JOB \[RR-1\|gastrocnemius\]\) "
                                          r"STARTING, 0 events; no event yet"):
        _wait_for_runs(fake, clock, idle=60.0)


def test_the_ceiling_stops_endless_progress():
    clock = FakeClock()
    fake = FakeDagster(clock, [(10.0 * i, "busy", "STARTED", ("LOGS_CAPTURED", f"{i}")) for i in range(1000)])
    with pytest.raises(StalledWait, match="still going after the 600s ceiling"):
        _wait_for_runs(fake, clock, idle=300.0, ceiling=600.0)
    assert clock.now == pytest.approx(600.0, abs=5.0)


def test_finished_runs_are_not_fetched_again():
    clock = FakeClock()
    fake = FakeDagster(clock, [(0, "r1", "SUCCESS", ("RUN_SUCCESS", "")), (0, "r2", "STARTED", ("RUN_START", ""))])
    tracker = RunEventTracker(fake.fetch)
    asked: list[set] = []
    real_fetch = fake.fetch
    tracker._fetch = lambda req: (asked.append(set(req)), real_fetch(req))[1]
    tracker.update(["r1", "r2"])
    tracker.update(["r1", "r2"])
    assert asked == [{"r1", "r2"}, {"r2"}]
    assert tracker.runs["r1"].n_events == 1 and tracker.runs["r2"].n_events == 1  # not counted twice


def test_a_failing_check_stops_the_wait_at_once():
    clock = FakeClock()

    def check() -> None:
        if clock.now >= 20:
            raise RuntimeError("daemon exited with -9")

    with pytest.raises(RuntimeError, match="daemon exited"):
        wait_with_progress(lambda: Observation(done=False, progress=0), what="x", idle_timeout=300, poll=5.0,
                           check=check, clock=clock, sleep=clock.sleep)
    assert clock.now == 20


def test_instance_source_reads_status_and_new_events_of_a_real_run():
    """The DagsterInstance-backed source of the daemon waits (defs/dagster_daemon_process.py) on a real
    run in an ephemeral instance: status, event types and messages, and only new events on the next read."""
    import dagster as dg

    from genebench_assets_tests.defs.dagster_daemon_process import instance_event_pages

    @dg.asset
    def tiny() -> int:
        return 1

    with dg.instance_for_test() as instance:
        result = dg.materialize([tiny], instance=instance)
        tracker = RunEventTracker(instance_event_pages(instance))
        tracker.update([result.run_id])
        run = tracker.runs[result.run_id]
        assert run.status == "SUCCESS" and run.drained and run.n_events > 5
        assert run.last_event_type == "RUN_SUCCESS" and run.last_event_ts is not None
        assert f"run {result.run_id} (__ephemeral_asset_job__) SUCCESS" in run.describe()
        n = run.n_events
        tracker.update([result.run_id])  # drained: not read again, nothing counted twice
        assert run.n_events == n
        fetch = instance_event_pages(instance)
        again = fetch({result.run_id: run.cursor})[result.run_id]
        assert again["events"] == [] and again["status"] == "SUCCESS"
