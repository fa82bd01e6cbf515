"""Model plug-ins (issue 20): any object with scikit-learn's ``fit`` / ``predict_proba``, run as one more
model through the same path as the built-ins (lomo_folds -> model_predictions -> evaluation_summary).

A plug-in is named by a spec ``NAME=MODULE:FACTORY`` (``--model-spec`` on ``genebench materialize``,
``GENEBENCH_MODEL_SPECS`` for the UI, sensors and daemon, comma separated) or by an entry point of group
``genebench.models`` (``NAME = "MODULE:FACTORY"``) of an installed package. ``FACTORY()`` (or
``FACTORY(seed=...)`` when it takes a ``seed`` argument) returns an unfitted estimator.

- Fit workers receive the spec string, never the object (it must cross a spawn boundary), and import it
  there (``fit_plugin``).
- What the plug-in sees: training features with training labels, and test features WITHOUT labels, as
  float64 numpy arrays (samples x features, the fold's feature order): exactly what the built-ins fit on,
  so a plug-in costs what the same estimator costs as a built-in (benchmarks/plugin_overhead.py). A factory
  (function or class) with the attribute ``genebench_input = "frame"`` gets DataFrames instead (feature
  ids as columns; the test frame's index is the row position, no sample id to look a label up by), at
  scikit-learn's price for them: it validates a DataFrame column by column on every ``fit`` /
  ``predict_proba`` (about 3 us a column, ~10% of a small RandomForest fit on thousands of genes).
- Its output is checked after ``predict_proba``: one score per test row, finite, within [0, 1]; any
  problem is a ``PluginError`` whose text is one line.
- Code version: sha256 of the factory module's source plus its distribution's version
  (``plugin_code_version``), recorded by model_predictions and part of its data version.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

ENTRY_POINT_GROUP = "genebench.models"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
# Prefix of a model_predictions task name that runs a plug-in (the worker imports the spec after it).
PLUGIN_PREFIX = "plugin:"
# A factory attribute choosing what the plug-in's fit / predict_proba receive: "array" (default, what the
# built-ins fit on) or "frame" (DataFrames with the feature ids as columns).
INPUT_ATTRIBUTE = "genebench_input"
INPUT_FORMATS = ("array", "frame")


class PluginError(Exception):
    """A plug-in could not be named, loaded, fitted or its output is unusable: the text is one line."""


class FitTimeout(PluginError):
    """A fit ran longer than the time limit (GENEBENCH_FIT_TIMEOUT)."""


@dataclass(frozen=True)
class PluginSpec:
    name: str
    module: str
    factory: str
    source: str = "spec"   # "spec" (--model-spec / GENEBENCH_MODEL_SPECS) or "entry point"

    @property
    def spec(self) -> str:
        return f"{self.name}={self.module}:{self.factory}"


def parse_spec(text: str, *, source: str = "spec") -> PluginSpec:
    """``NAME=MODULE:FACTORY`` -> PluginSpec; a malformed spec or name is a one-line PluginError."""
    text = str(text).strip()
    name, eq, target = text.partition("=")
    name, target = name.strip(), target.strip()
    if not eq or not _TARGET.match(target):
        raise PluginError(f"model spec {text[:80]!r}: expected NAME=MODULE:FACTORY, e.g. my_lr=my_pkg.models:make_lr")
    if not NAME_PATTERN.match(name):
        raise PluginError(f"model spec {text[:80]!r}: name {name[:40]!r} must match {NAME_PATTERN.pattern} "
                          "(lower case, digits, underscore)")
    from genebench_assets.science.models.classifiers import MODEL_NAMES

    if name in MODEL_NAMES or name.startswith("positive_control"):
        raise PluginError(f"model spec {text[:80]!r}: {name!r} is a built-in model name; choose another")
    module, _, factory = target.partition(":")
    return PluginSpec(name, module, factory, source)


def entry_point_specs() -> list[PluginSpec]:
    """Plug-ins of installed packages (entry point group ``genebench.models``)."""
    out = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        out.append(parse_spec(f"{ep.name}={ep.value}", source="entry point"))
    return out


def configured_specs(texts=(), *, entry_points: bool = True) -> list[PluginSpec]:
    """The plug-ins to run: explicit specs (in order), then installed entry points; a name given twice
    is an error unless it names the same target."""
    specs = [parse_spec(t) for t in texts if str(t).strip()]
    if entry_points:
        specs += entry_point_specs()
    seen: dict[str, PluginSpec] = {}
    out = []
    for s in specs:
        if s.name in seen:
            if (seen[s.name].module, seen[s.name].factory) != (s.module, s.factory):
                raise PluginError(f"model {s.name!r} is named twice: {seen[s.name].spec} and {s.spec}")
            continue
        seen[s.name] = s
        out.append(s)
    return out


def split_specs(text: str) -> list[str]:
    """GENEBENCH_MODEL_SPECS: specs separated by commas or whitespace."""
    return [t for t in re.split(r"[,\s]+", text or "") if t]


def load_factory(spec: PluginSpec | str):
    """Import the plug-in's factory (one-line PluginError on failure)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    try:
        module = importlib.import_module(spec.module)
    except Exception as exc:  # noqa: BLE001 - any import failure is the plug-in's problem
        raise PluginError(f"cannot import {spec.module!r}: {type(exc).__name__}: {_one_line(exc)}") from None
    obj = module
    for part in spec.factory.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise PluginError(f"{spec.module!r} has no {spec.factory!r}")
    if not callable(obj):
        raise PluginError(f"{spec.module}:{spec.factory} is not callable")
    return obj


@functools.lru_cache(maxsize=4)
def _packages_distributions(_paths_state: tuple) -> dict:
    return importlib.metadata.packages_distributions()


def _distribution_version(module_name: str) -> str:
    top = module_name.split(".", 1)[0]
    # packages_distributions() reads every installed distribution's metadata (~0.3 s, once per run and plug-in
    # otherwise); cached while no folder on sys.path changes (an install or removal changes its mtime).
    state = tuple((p, os.stat(p).st_mtime_ns) for p in sys.path if p and os.path.isdir(p))
    dists = _packages_distributions(state).get(top) or []
    for dist in dists:
        try:
            return f"{dist}=={importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return "no distribution"


def plugin_code_version(spec: PluginSpec | str) -> str:
    """sha256 (16 hex digits) of the factory module's source and its distribution's version."""
    import importlib.util

    spec = parse_spec(spec) if isinstance(spec, str) else spec
    # Located, not imported: the plug-in's code runs in fit workers only.
    try:
        found = importlib.util.find_spec(spec.module)
    except Exception as exc:  # noqa: BLE001 - a parent package failed to import
        raise PluginError(f"cannot import {spec.module!r}: {type(exc).__name__}: {_one_line(exc)}") from None
    if found is None:
        raise PluginError(f"cannot import {spec.module!r}: no module of that name")
    origin = Path(found.origin) if found.origin and found.origin not in ("built-in", "frozen") else None
    source = origin.read_bytes() if origin is not None and origin.is_file() else b"<no source>"
    h = hashlib.sha256(source + b"\0" + _distribution_version(spec.module).encode())
    return h.hexdigest()[:16]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def output_problem(scores, n_test: int) -> str | None:
    """Why a plug-in's test scores are unusable (None when fine)."""
    import numpy as np

    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        return f"predict_proba returned non-numeric values ({type(scores).__name__})"
    if s.ndim != 1 or s.shape[0] != n_test:
        return f"wrong length: {s.shape} scores for {n_test} test samples"
    if not np.isfinite(s).all():
        return f"{int((~np.isfinite(s)).sum())} of {n_test} scores are NaN or inf"
    if (s < 0).any() or (s > 1).any():
        return f"scores outside [0, 1] (min {s.min():.3g}, max {s.max():.3g})"
    return None


def _build(factory, seed: int):
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    return factory(seed=seed) if "seed" in params else factory()


def _on_alarm(signum, frame):
    raise FitTimeout("slower than the time limit")


def input_format(factory) -> str:
    """``factory.genebench_input`` ("array" when absent); another value is a one-line PluginError."""
    fmt = getattr(factory, INPUT_ATTRIBUTE, "array")
    if fmt not in INPUT_FORMATS:
        raise PluginError(f"{INPUT_ATTRIBUTE} = {str(fmt)[:40]!r}: expected one of {', '.join(INPUT_FORMATS)}")
    return fmt


def _model_inputs(X_train, X_test, fmt: str):
    """(train, test) as the plug-in receives them: float64 arrays (fmt "array"); or DataFrames (fmt "frame")
    without copying the feature values, row positions as the index (no sample id), the training frame's
    column Index object shared by the test frame."""
    import numpy as np
    import pandas as pd

    if fmt == "array":
        return np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    train_cols = X_train.columns if isinstance(X_train, pd.DataFrame) else None
    test_cols = X_test.columns if isinstance(X_test, pd.DataFrame) else None
    if train_cols is not None and test_cols is not None and test_cols.equals(train_cols):
        test_cols = train_cols

    def frame(X, columns):
        values = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
        return pd.DataFrame(values, index=pd.RangeIndex(len(values)), columns=columns, copy=False)

    return frame(X_train, train_cols), frame(X_test, test_cols)


def _rows(X, order):
    """Rows of X (frame or array) in `order`, re-indexed by position."""
    if hasattr(X, "iloc"):
        return X.iloc[order].reset_index(drop=True)
    return X[order]


def fit_plugin(spec: str, X_train, y_train, X_test, seed: int, timeout: float | None = None,
               probe_seed: int | None = None, *, cost: dict | None = None):
    """P(Flight) of each row of X_test from the plug-in named by `spec`, validated.

    X_train / X_test: the fold's features; the plug-in receives float64 arrays, no label with the test rows
    (``genebench_input = "frame"`` on the factory: DataFrames, the test frame indexed by row position).
    `timeout` (seconds): SIGALRM in this (worker) process interrupts a fit that runs longer; the pool kills a
    worker that does not react (fit_pool).

    `probe_seed` (label blindness): the fitted plug-in also scores the test rows in another order
    (`label_blind_permutation`); its scores must follow the rows. A plug-in that reads test labels through
    a side channel (a file, a global, the fold) at fit or predict time, aligned by row position, fails.
    `cost`: a dict that receives ``probe_cpu_seconds``, the probe's own CPU (the one extra predict_proba),
    so a caller can count it apart from the fit's."""
    import time

    import numpy as np

    factory = load_factory(spec)
    X_train, X_test = _model_inputs(X_train, X_test, input_format(factory))
    n_test = len(X_test)
    y_train = np.asarray(y_train, dtype=np.int64)
    alarm = timeout is not None and timeout > 0 and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if alarm else None
    probe_cpu = 0.0
    try:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, float(timeout))
        try:
            est = _build(factory, seed)
            est.fit(X_train, y_train)
            proba = est.predict_proba(X_test)
            if probe_seed is not None:
                c0 = time.process_time()
                perm = label_blind_permutation(n_test, probe_seed)
                probe = np.asarray(est.predict_proba(_rows(X_test, perm)), dtype=np.float64)
                probe_cpu = time.process_time() - c0
        except FitTimeout:
            raise
        except Exception as exc:  # noqa: BLE001 - a plug-in's failure, reported in one line
            raise PluginError(f"raised {type(exc).__name__}: {_one_line(exc)}") from None
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if cost is not None:
        cost["probe_cpu_seconds"] = probe_cpu
    proba = np.asarray(proba, dtype=object) if not hasattr(proba, "shape") else np.asarray(proba)
    scores = proba[:, 1] if proba.ndim == 2 and proba.shape[1] == 2 else proba
    problem = output_problem(scores, n_test)
    if problem is None and proba.ndim == 2 and proba.shape[1] != 2:
        problem = f"predict_proba returned {proba.shape[1]} columns, expected 2 (Ground, Flight)"
    if problem:
        raise PluginError(problem)
    scores = np.asarray(scores, dtype=np.float64)
    if probe_seed is not None:
        moved = np.full(len(scores), np.nan)
        if probe.ndim == 2 and probe.shape == (len(scores), 2):
            moved[perm] = probe[:, 1]
        if not np.allclose(moved, scores, rtol=0, atol=1e-6):
            raise PluginError("its scores do not follow the test rows when they are reordered: it reads test labels "
                              "or row order through a side channel")
    return scores


def label_blind_permutation(n_test: int, seed: int):
    """Row order for the label-blindness probe: a fixed non-identity permutation of the test rows."""
    import numpy as np

    perm = np.random.default_rng(seed).permutation(n_test)
    if n_test > 1 and (perm == np.arange(n_test)).all():
        perm = np.roll(perm, 1)
    return perm
