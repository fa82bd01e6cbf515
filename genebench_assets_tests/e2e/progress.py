"""Waits that follow progress instead of the wall clock (issue 23).

On a loaded machine (2 shared cores, other jobs beside the tests) a backfill can take many times its
idle duration while every run keeps moving. A fixed deadline then fails a healthy product. Every wait
of the end-to-end tests goes through `wait_with_progress` instead: it polls an observation (is it done?
what does the progress look like?) and fails only after `idle_timeout` seconds in which the progress
fingerprint did not change, with a message saying what was stuck; `ceiling` is a generous last resort.

For Dagster runs the fingerprint is made of the runs' statuses, the number of runs, and the events in
their event logs (`RunEventTracker`: a new event is progress), so the failure names the stuck run,
its status and its last event (type and message).

    GENEBENCH_E2E_IDLE_SECONDS     seconds without progress before failing (default 300)
    GENEBENCH_E2E_CEILING_SECONDS  overall limit, progress or not (default 3600)

This module imports neither dagster nor httpx: the waiting logic is unit-tested with fake sources
(test_progress_wait.py)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

IDLE_TIMEOUT = float(os.environ.get("GENEBENCH_E2E_IDLE_SECONDS", "300"))
CEILING = float(os.environ.get("GENEBENCH_E2E_CEILING_SECONDS", "3600"))

TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


class StalledWait(TimeoutError):
    """Nothing progressed for `idle_timeout` seconds (or the overall ceiling passed)."""


@dataclass
class Observation:
    done: bool
    progress: Hashable = None
    """A fingerprint of the progress so far: any change counts as progress (resets the idle timer)."""
    value: Any = None
    """Returned by wait_with_progress once done."""
    summary: str = ""
    """One line on the current state, for the failure message."""


def wait_with_progress(
    observe: Callable[[], Observation],
    *,
    what: str,
    idle_timeout: float | None = None,
    ceiling: float | None = None,
    poll: float = 2.0,
    describe_stuck: Callable[[], str] | None = None,
    check: Callable[[], None] | None = None,
    report_every: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll `observe()` every `poll` s until it reports done; return its value.

    Raise StalledWait when its `progress` fingerprint has not changed for `idle_timeout` s, or when
    `ceiling` s have passed in all; the message names `what`, how long it waited, the last summary and
    `describe_stuck()` (e.g. the stuck run and its last event). `check()` runs every poll and may raise
    at once (e.g. the daemon process exited). Every `report_every` s a line on the state is printed
    (pytest shows it with -s, or under a failing test)."""
    idle_timeout = IDLE_TIMEOUT if idle_timeout is None else idle_timeout
    ceiling = CEILING if ceiling is None else ceiling
    start = clock()
    last_change = start
    seen: Any = object()  # never equal to a first fingerprint
    n_changes = -1
    next_report = start + report_every
    while True:
        if check is not None:
            check()
        obs = observe()
        now = clock()
        if obs.done:
            return obs.value
        if obs.progress != seen:
            seen, last_change = obs.progress, now
            n_changes += 1
        idle, total = now - last_change, now - start
        if now >= next_report:
            next_report = now + report_every
            print(f"[wait] {what}: {total:.0f}s, idle {idle:.0f}s; {obs.summary}", flush=True)
        if idle >= idle_timeout or total >= ceiling:
            why = (f"no progress for {idle:.0f}s (idle limit {idle_timeout:.0f}s)" if idle >= idle_timeout
                   else f"still going after the {ceiling:.0f}s ceiling ({n_changes} progress steps seen)")
            msg = f"{what}: {why}, {total:.0f}s in all"
            if obs.summary:
                msg += f"\n  last state: {obs.summary}"
            if describe_stuck is not None:
                try:
                    msg += "\n" + describe_stuck()
                except Exception as exc:  # the diagnosis must not hide the timeout
                    msg += f"\n  (could not describe the stuck state: {exc!r})"
            raise StalledWait(msg)
        sleep(poll)


# ------------------------------------------------------------------ Dagster runs
@dataclass
class RunProgress:
    run_id: str
    status: str = "?"
    job_name: str = ""
    partition: str | None = None
    n_events: int = 0
    cursor: str | None = None
    last_event_type: str | None = None
    last_event_message: str = ""
    last_event_step: str | None = None
    last_event_ts: float | None = None  # seconds since the epoch
    drained: bool = False  # terminal, and every event read

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        where = f" [{self.partition}]" if self.partition else ""
        text = f"run {self.run_id} ({self.job_name}{where}) {self.status}, {self.n_events} events"
        if self.last_event_type is None:
            return text + "; no event yet"
        age = f", {now - self.last_event_ts:.0f}s ago" if self.last_event_ts else ""
        step = f" step {self.last_event_step}" if self.last_event_step else ""
        msg = " ".join((self.last_event_message or "").split())[:300]
        return text + f"; last event {self.last_event_type}{step}{age}: {msg}"


EventPage = Mapping[str, Any]
"""What a run source returns for one run: {"status", "job_name", "partition", "events": [{"type",
"message", "step", "timestamp" (s)}], "cursor", "has_more"}."""


class RunEventTracker:
    """Follows the event logs of a set of runs through `fetch(requests) -> {run_id: EventPage}`, where
    `requests` maps each run id to the cursor after which to read (None: from the start). Only new
    events are fetched; runs that are terminal and fully read are not asked again."""

    def __init__(self, fetch: Callable[[Mapping[str, str | None]], Mapping[str, EventPage]]):
        self._fetch = fetch
        self.runs: dict[str, RunProgress] = {}

    @property
    def total_events(self) -> int:
        return sum(r.n_events for r in self.runs.values())

    def update(self, run_ids: Iterable[str]) -> None:
        for rid in run_ids:
            self.runs.setdefault(rid, RunProgress(rid))
        for _ in range(20):  # a run with more events than one page: read on, boundedly
            todo = {rid: r.cursor for rid, r in self.runs.items() if not r.drained}
            if not todo:
                return
            pages = self._fetch(todo)
            more = False
            for rid, page in pages.items():
                r = self.runs[rid]
                r.status = page.get("status") or r.status
                r.job_name = page.get("job_name") or r.job_name
                r.partition = page.get("partition") or r.partition
                events = list(page.get("events") or [])
                if events:
                    ev = events[-1]
                    r.n_events += len(events)
                    r.last_event_type = ev.get("type")
                    r.last_event_message = ev.get("message") or ""
                    r.last_event_step = ev.get("step")
                    r.last_event_ts = ev.get("timestamp")
                if page.get("cursor"):
                    r.cursor = page["cursor"]
                if page.get("has_more") and events:
                    more = True
                elif r.status in TERMINAL_RUN_STATUSES:
                    r.drained = True
            if not more:
                return

    def fingerprint(self) -> tuple:
        return (len(self.runs), self.total_events,
                tuple(sorted((rid, r.status) for rid, r in self.runs.items())))

    def unfinished(self) -> list[RunProgress]:
        return [r for r in self.runs.values() if r.status not in TERMINAL_RUN_STATUSES]

    def stuck_report(self, now: float | None = None, limit: int = 8) -> str:
        """The unfinished runs, the one whose last event is oldest first (the likeliest stuck one)."""
        pending = self.unfinished()
        if not pending:
            return "  no unfinished run" + (f" (of {len(self.runs)})" if self.runs else " (none launched)")
        pending.sort(key=lambda r: (r.last_event_ts is not None, r.last_event_ts or 0.0))
        active = [r for r in pending if r.status not in ("QUEUED", "NOT_STARTED")] or pending
        stuck = active[0]
        lines = [f"  stuck: {stuck.describe(now)}"]
        others = [r for r in pending if r is not stuck][:limit]
        lines += [f"  also unfinished: {r.describe(now)}" for r in others]
        return "\n".join(lines)


def run_ids_of(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [r["runId"] for r in runs]


@dataclass
class CounterProgress:
    """A progress fingerprint for waits that have no event log to follow (server start-up): named
    stages reached plus any growing counters (e.g. log file sizes)."""

    stage: str = ""
    counters: dict[str, int] = field(default_factory=dict)

    def fingerprint(self) -> tuple:
        return (self.stage, tuple(sorted(self.counters.items())))
