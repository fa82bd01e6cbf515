"""Mean ± sd over seeds (issue 20, ``--seeds``): the one way every path (Category A's LOMO evaluation, Category B's
pairs, Category C's methods A/B, SpaceOmicsBench's plug-in fits) turns one result per seed into the result a task
reports. Each seed is a full run of the fits, evaluated alone; then, per task:

- a number is the mean over seeds (NaN skipped, as pandas does); an integer that every seed agrees on (a fold
  count) stays that integer; a list of numbers (an interval) is averaged element by element;
- anything else every seed agrees on (a name, a note, None) is kept, otherwise it is None;
- booleans are rules (GO): they are left out, and ``rules(row)`` recomputes them on the means;
- ``sd_column`` (``sd_auroc_over_seeds``) is the sample sd (ddof 1) of the seeds' ``metric`` (0 with one seed),
  then ``n_seeds`` and ``seeds`` ("42,43", ascending).

``mean_over_seeds(rows, metric, rules=None, sd_column=...)``: one task's per-seed dicts (each with ``seed``) -> one dict.
``frame_over_seeds(by_seed, keys, metric, rules=None)``: the same per group of a per-seed frame (a ``seed`` column).
``seeds_of(row, default)``: the seed list of a row made here (``default`` for a single-seed row without one).
``result_over_seeds(per_seed, metric, shown)``: one fold's result over seeds (one seed: that result as it was);
several: ``mean_over_seeds`` plus ``per_seed`` (each seed's ``shown`` fields).
``with_seed(frame, seed, seeds)``: a predictions frame of one seed's fits, with a ``seed`` column only when there
are several seeds (one seed: the table as before, byte for byte); ``seed_note(seed, seeds)``: ", seed 43" for a
message, empty with one seed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and v != v)


def _same(values: list) -> bool:
    first = values[0]
    for v in values[1:]:
        if _is_missing(first) and _is_missing(v):
            continue
        if isinstance(first, (list, tuple, np.ndarray)) or isinstance(v, (list, tuple, np.ndarray)):
            if list(np.asarray(first, dtype=object)) != list(np.asarray(v, dtype=object)):
                return False
        elif not (first == v):
            return False
    return True


def _mean(values: list):
    if all(_is_missing(v) for v in values):
        return values[0]
    if all(_is_number(v) or _is_missing(v) for v in values):
        ints = all(isinstance(v, (int, np.integer)) for v in values)
        if ints and _same(values):
            return int(values[0])
        return float(pd.Series([np.nan if _is_missing(v) else float(v) for v in values], dtype=float).mean())
    if all(isinstance(v, (list, tuple, np.ndarray)) for v in values) and len({len(v) for v in values}) == 1 and \
            all(_is_number(x) for v in values for x in v):
        return [float(pd.Series([float(v[i]) for v in values], dtype=float).mean()) for i in range(len(values[0]))]
    return values[0] if _same(values) else None


SD_COLUMN = "sd_auroc_over_seeds"


def mean_over_seeds(rows: Sequence[dict], metric: str, *, rules: Callable[[dict], dict] | None = None,
                    sd_column: str = SD_COLUMN) -> dict:
    """One task's result over seeds from its per-seed results (dicts with a ``seed`` key, same keys)."""
    rows = sorted(rows, key=lambda r: int(r["seed"]))
    out: dict = {}
    for col in rows[0]:
        if col == "seed":
            continue
        values = [r.get(col) for r in rows]
        if any(isinstance(v, (bool, np.bool_)) for v in values):
            continue  # a rule: recomputed on the means by `rules`
        out[col] = _mean(values)
    if rules is not None:
        out.update(rules(out))
    per_seed = pd.Series([r.get(metric) for r in rows], dtype=float)
    out[sd_column] = float(per_seed.std(ddof=1)) if len(rows) > 1 else 0.0
    out["n_seeds"] = len(rows)
    out["seeds"] = ",".join(str(int(r["seed"])) for r in rows)
    return out


def frame_over_seeds(by_seed: pd.DataFrame, keys: Sequence[str], metric: str, *,
                     rules: Callable[[dict], dict] | None = None, sd_column: str = SD_COLUMN) -> pd.DataFrame:
    """``mean_over_seeds`` per group of ``keys`` of a per-seed frame (one row per seed and task)."""
    keys = list(keys)
    rows = []
    for key, g in by_seed.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = mean_over_seeds([{c: v for c, v in r.items() if c not in keys} for r in g.to_dict("records")],
                              metric, rules=rules, sd_column=sd_column)
        rows.append({**dict(zip(keys, key)), **row})
    return pd.DataFrame(rows)


def seeds_of(row, default: Sequence[int]) -> list[int]:
    """The seeds of a row ``mean_over_seeds`` made ("42,43"), else ``default`` (a single-seed result)."""
    text = row.get("seeds") if hasattr(row, "get") else None
    if isinstance(text, str) and text:
        return [int(s) for s in text.split(",")]
    return [int(s) for s in default]


def result_over_seeds(per_seed: Sequence[dict], metric: str, shown: Sequence[str]) -> dict:
    """One result from one per seed (dicts with ``seed``): with one seed the result itself, without ``seed``
    (byte for byte what a run without ``--seeds`` writes); with several the mean ± sd over seeds, and under
    ``per_seed`` each seed's ``shown`` fields."""
    if len(per_seed) == 1:
        return {k: v for k, v in per_seed[0].items() if k != "seed"}
    out = mean_over_seeds(per_seed, metric)
    out["per_seed"] = [{"seed": int(r["seed"]), **{k: r.get(k) for k in shown}}
                       for r in sorted(per_seed, key=lambda r: int(r["seed"]))]
    return out


def with_seed(frame: pd.DataFrame, seed: int, seeds: Sequence[int]) -> pd.DataFrame:
    """``frame`` with ``seed`` as a column when ``seeds`` has more than one; ``frame`` itself otherwise."""
    return frame.assign(seed=int(seed)) if len(seeds) > 1 else frame


def seed_note(seed: int, seeds: Sequence[int]) -> str:
    return f", seed {int(seed)}" if len(seeds) > 1 else ""
