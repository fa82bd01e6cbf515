"""Progress of a long step, logged in the Dagster run so a person watching the UI sees it move.

One line per call: "<what> i of n, elapsed 12.3 s, about 40 s left". The estimate is the mean time per
item so far times the items left; it is printed only once one item is done. Call it from any loop
(model fits over folds, GSVA per fold, LLM calls):

    t0 = time.perf_counter()
    for i, fold in enumerate(folds, start=1):
        ...
        log_progress(context, i, len(folds), t0, f"{tissue}: model fits")

`every` thins the log for long loops (always logs the first and the last item). Items that finish
in any order on worker processes (science/models/fit_pool.map_in_workers' `on_done`) use `Progress`."""

from __future__ import annotations

import time
from pathlib import Path


def progress_message(i: int, n: int, t0: float, what: str, *, now: float | None = None,
                     fraction: float | None = None) -> str:
    """fraction: share of the expected work done (when items differ in size); default i / n."""
    elapsed = (time.perf_counter() if now is None else now) - t0
    msg = f"{what}: {i} of {n}, elapsed {_duration(elapsed)}"
    share = i / n if fraction is None and n else fraction
    if 0 < i < n and share and share > 0:
        msg += f", about {_duration(elapsed * (1 - min(share, 1.0)) / share)} left"
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


class Progress:
    """Progress of n items that finish in any order (fits on worker processes): call `done(i)` as
    item i finishes. With `weights` (expected cost of each item, e.g. the fit-cost estimate the pool
    schedules by) the time left is estimated from the share of the expected work done, not from the
    count: a longest-first schedule finishes its big items first. Logs the first and the last item
    and otherwise at most once every `min_interval` seconds, so 500 quick fits are a few lines."""

    def __init__(self, context, n: int, what: str, *, weights=None, min_interval: float = 5.0):
        self.context, self.n, self.what, self.min_interval = context, n, what, min_interval
        self.weights = [float(w) for w in weights] if weights is not None else None
        self.total = sum(self.weights) if self.weights else 0.0
        self.t0 = time.perf_counter()
        self.count, self.weight_done, self.last_logged = 0, 0.0, None
        self.lines: list[str] = []

    def done(self, i: int | None = None) -> str | None:
        self.count += 1
        if self.weights and i is not None:
            self.weight_done += self.weights[i]
        now = time.perf_counter()
        if not (self.count == 1 or self.count >= self.n or self.last_logged is None
                or now - self.last_logged >= self.min_interval):
            return None
        fraction = self.weight_done / self.total if self.weights and self.total > 0 else None
        msg = progress_message(self.count, self.n, self.t0, self.what, now=now, fraction=fraction)
        self.last_logged = now
        self.lines.append(msg)
        self.context.log.info(msg)
        return msg


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"


class _Forward:
    """write/flush forwarded to a stream (see TerminalProgress)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str):
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


class TerminalProgress:
    """`genebench materialize` on a terminal: a progress bar (tqdm, which Dagster already depends
    on) under the finished runs' lines - runs done of N, elapsed, estimated time left and the run in
    progress. The runs' own Dagster console log (DEBUG lines on stderr) would scroll the bar away
    and bury the command's lines, so it goes to `log_path` instead (the full event log is in the
    instance and the UI), with or without a terminal. When stdout is not a terminal (CI, a pipe, a
    file, `nohup`) the same lines are printed, without the bar."""

    def __init__(self, total: int, *, stream=None, log_path=None, tty: bool | None = None):
        import sys

        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.log_path = log_path
        self.bar = None
        self._running: list[str] = []
        if self.tty:
            import shutil

            from tqdm import tqdm

            # A terminal that reports no size (a fresh pseudo-terminal) would get a bar 0 wide.
            width = shutil.get_terminal_size((100, 20)).columns
            # tqdm is handed a forwarding writer, not sys.stdout itself: given the interpreter's own
            # sys.stdout on a pseudo-terminal, tqdm 4.70 drew nothing here (tested under a pty).
            self.bar = tqdm(total=total, file=_Forward(self.stream), unit="run", ncols=width if width > 0 else 100, leave=True,
                            mininterval=0,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} runs [{elapsed}<{remaining}] {postfix}")

    def line(self, text: str) -> None:
        """A finished run's line (and any failure detail): above the bar, or printed as before."""
        if self.bar is not None:
            self.bar.write(text, file=self.bar.fp)
        else:
            print(text, file=self.stream, flush=True)

    def started(self, label: str) -> None:
        """A run started (several may be running at once: all are named on the bar)."""
        self._running.append(label)
        if self.bar is not None:
            self.bar.set_postfix_str(" | ".join(self._running), refresh=True)

    def ended(self, label: str) -> None:
        """A run ended: the bar advances and stops naming it."""
        if label in self._running:
            self._running.remove(label)
        if self.bar is not None:
            self.bar.set_postfix_str(" | ".join(self._running), refresh=False)
            self.bar.update(1)

    def crashed(self, start: int | None = None) -> None:
        """Something stopped the command itself (not a failed run, which returns): close the bar and show
        the end of what the runs wrote on stderr (from byte `start` of the log), so the reason is not
        hidden in the log file."""
        import sys

        self.close()
        if self.log_path is not None and Path(self.log_path).exists():
            with open(self.log_path) as log:
                log.seek(start or 0)
                sys.stderr.write("".join(log.readlines()[-20:]))

    def running(self, label: str):
        """Context manager around one run in this process: names it on the bar, sends its stderr (Dagster's
        console log) to the log file, and advances the bar when it ends."""
        import contextlib

        @contextlib.contextmanager
        def _run():
            self.started(label)
            start = None
            try:
                with contextlib.ExitStack() as stack:
                    if self.log_path is not None:
                        log = stack.enter_context(open(self.log_path, "a"))
                        start = log.tell()
                        stack.enter_context(contextlib.redirect_stderr(log))
                    yield
            except BaseException:
                self.crashed(start)
                raise
            self.ended(label)

        return _run()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str("", refresh=False)
            self.bar.close()
            self.bar = None
