"""Progress of a long step, logged in the Dagster run so a person watching the UI sees it move.

One line per call: "<what> i of n, elapsed 12.3 s, about 40 s left". The estimate is the mean time per
item so far times the items left; it is printed only once one item is done. Call it from any loop
(model fits over folds, GSVA per fold, LLM calls):

    t0 = time.perf_counter()
    for i, fold in enumerate(folds, start=1):
        ...
        log_progress(context, i, len(folds), t0, f"{tissue}: model fits")

`every` thins the log for long loops (always logs the first and the last item)."""

from __future__ import annotations

import time


def progress_message(i: int, n: int, t0: float, what: str, *, now: float | None = None) -> str:
    elapsed = (time.perf_counter() if now is None else now) - t0
    msg = f"{what}: {i} of {n}, elapsed {_duration(elapsed)}"
    if 0 < i < n:
        msg += f", about {_duration(elapsed / i * (n - i))} left"
    elif i >= n:
        msg += ", done"
    return msg


def log_progress(context, i: int, n: int, t0: float, what: str, *, every: int = 1) -> str | None:
    """Log progress of item i (1-based) of n started at t0 (time.perf_counter()); returns the line."""
    if not (i == 1 or i >= n or every <= 1 or i % every == 0):
        return None
    msg = progress_message(i, n, t0, what)
    context.log.info(msg)
    return msg


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"
