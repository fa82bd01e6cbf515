"""Model plug-ins (issue 20) on the Category B, C and SpaceOmicsBench paths: the same fit path as Category A's
model_predictions (science/models/fit_pool.guarded_fit in spawned workers, the spec string crossing the spawn
boundary, label-blind test features, output validation, the time limit), called by each task's predictions
asset for the fits whose input is a binary classification (science/models/plugin_scope.py).

- ``configured_plugins(model_settings)``: name -> {spec, source, code_version}; a bad spec or a missing module
  is a one-line ``dg.Failure`` before anything is read.
- ``run_plugin_fits(context, model_settings, plugins, fits)``: every ``PluginFit`` on fit workers (plug-in code
  never runs in the run process); the first fit of each plug-in also runs the label-blindness probe. Any
  fault ends the run in one line naming model, fold and problem, before the caller writes anything.
- ``versioned_data_version(sha, plugins)``: a table's data version with the plug-ins' code versions in it.
- ``positive_control_fit(...)`` / ``positive_control_outcome(aurocs)``: Category A's per-model positive control
  (science/evaluation/lomo_evaluation.planted_label_copy) for a plug-in on one fold of a B or C task, and what
  the asset reports of it (AUROC, the minimum, passed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import dagster as dg

from genebench_assets.defs.models.resources import ModelSettings


@dataclasses.dataclass(frozen=True)
class PluginFit:
    """One plug-in fit: ``where`` names the fold (and seed) for messages (e.g. ``fold pair_RR-1_RR-5 (genes)``);
    X_test carries no label (its index is dropped in the worker: rows are positions). ``seed``: one of
    ``ModelSettings.run_seeds()`` (None: ``model_settings.seed``); each seed is a full run of the fits.
    ``positive_control``: the planted-label copy of ``positive_control_fit``, whose cost is counted apart
    (under ``positive_control:<name>``, as Category A's model_predictions counts it)."""
    name: str
    where: str
    X_train: Any
    y_train: Any
    X_test: Any
    seed: int | None = None
    positive_control: bool = False


def configured_plugins(model_settings: ModelSettings, reserved=()) -> dict[str, dict]:
    """The configured plug-ins with their code versions (located, not imported, here). ``reserved``: the
    task's own built-in model names, which a plug-in may not take."""
    from genebench_assets.science.models.plugins import PluginError, plugin_code_version

    try:
        specs = model_settings.plugins()
    except PluginError as e:
        raise dg.Failure(f"model plug-ins, all folds: {e}", allow_retries=False) from None
    out = {}
    for p in specs:
        if p.name in reserved:
            raise dg.Failure(f"model {p.name}, all folds: {p.name!r} is a built-in model name of this task "
                             f"({', '.join(reserved)}); choose another", allow_retries=False)
        try:
            out[p.name] = {"spec": p.spec, "module": p.module, "source": p.source, "code_version": plugin_code_version(p)}
        except PluginError as e:
            raise dg.Failure(f"model {p.name}, all folds: {e}", allow_retries=False) from None
    return out


def plugin_metadata(plugins: dict[str, dict]) -> dict[str, dict]:
    """What an asset's metadata and provenance record of its plug-ins: spec, source, code version."""
    return {n: {k: p[k] for k in ("spec", "source", "code_version")} for n, p in plugins.items()}


def versioned_data_version(sha: str, plugins: dict[str, dict]) -> str:
    """``sha[:16]`` without plug-ins (as before); with them, a hash of the table's sha256 and every plug-in's
    code version, so a changed plug-in changes the version even when its scores do not."""
    if not plugins:
        return sha[:16]
    versions = {n: p["code_version"] for n, p in plugins.items()}
    return hashlib.sha256((sha + json.dumps(versions, sort_keys=True)).encode()).hexdigest()[:16]


def positive_control_fit(name: str, where: str, X_fit, y_fit, X_test, y_test, seed: int) -> PluginFit:
    """The plug-in ``name`` on a copy of one fold with label-carrying features planted (as Category A's
    ``positive_control:<model>``); only this copy reads the test labels, to plant them. Its fit is the plug-in's
    own fit path (worker, output validation, time limit); its cost is counted apart from the plug-in's."""
    import numpy as np

    from genebench_assets.science.evaluation.lomo_evaluation import planted_label_copy

    Xp_fit, Xp_test = planted_label_copy(X_fit, np.asarray(y_fit), X_test, np.asarray(y_test), seed=seed)
    return PluginFit(name, f"positive control, {where}", Xp_fit, np.asarray(y_fit), Xp_test, seed=seed,
                     positive_control=True)


def positive_control_outcome(context, where: str, aurocs: dict[str, float]) -> dict[str, dict]:
    """Per plug-in: its positive control's AUROC, the minimum every model must reach (Category A's
    POSITIVE_CONTROL_MIN) and whether it did; a plug-in that cannot find planted label features is broken,
    which the run log says (``where``: the tissue or task)."""
    from genebench_assets.science.evaluation.lomo_evaluation import POSITIVE_CONTROL_MIN

    out = {name: {"auroc": float(v), "min": POSITIVE_CONTROL_MIN, "passed": bool(v >= POSITIVE_CONTROL_MIN)}
           for name, v in aurocs.items()}
    for name, c in out.items():
        if not c["passed"]:
            context.log.warning(f"{where}: plug-in {name}'s positive control AUROC {c['auroc']:.3f} < {c['min']}: "
                                "it cannot find features planted with the label")
    return out


def run_plugin_fits(context, model_settings: ModelSettings, plugins: dict[str, dict],
                    fits: list[PluginFit]) -> tuple[list, dict, dict]:
    """(guarded_fit's result per fit: scores, fit_seconds, cpu_seconds, peak_rss_mb; label_blind per plug-in;
    fit cost per plug-in), fits in order.

    Seed: each fit's own (``PluginFit.seed``, the callers loop over ``model_settings.run_seeds()``), else
    ``model_settings.seed``. Time limit: ``model_settings.fit_timeout``. A failed fit raises a one-line
    ``dg.Failure``. Fit cost per plug-in sums every seed's fits and lists the seeds; a positive control's
    fit is counted under ``positive_control:<name>``, so a record's CPU seconds are the model's own."""
    from genebench_assets.science.models.fit_pool import guarded_fit, map_in_workers, worker_pool
    from genebench_assets.science.models.plugins import PLUGIN_PREFIX

    if not fits:
        return [], {}, {}
    timeout = model_settings.fit_timeout if model_settings.fit_timeout > 0 else None
    probed, args = set(), []
    for f in fits:
        seed = model_settings.seed if f.seed is None else int(f.seed)
        probe = seed if f.name not in probed else None  # label blindness: each plug-in's first fit
        probed.add(f.name)
        args.append((f"{PLUGIN_PREFIX}{plugins[f.name]['spec']}", f.X_train, f.y_train, f.X_test, seed, timeout, probe))
    preload = ("pandas", *(f"?{plugins[n]['module']}" for n in dict.fromkeys(f.name for f in fits)))
    try:
        with worker_pool(model_settings.n_jobs, preload=preload, force=True) as pool:
            results = map_in_workers(guarded_fit, args, n_jobs=model_settings.n_jobs, pool=pool)
    except BrokenProcessPool:
        raise dg.Failure(f"model {', '.join(plugins)}, fold unknown: a fit worker died (killed after the {timeout} s "
                         "time limit, GENEBENCH_FIT_TIMEOUT, or crashed)", allow_retries=False) from None
    label_blind, cost = {}, {}
    for f, a, res in zip(fits, args, results):
        if res["error"]:
            limit = f" ({timeout:g} s, GENEBENCH_FIT_TIMEOUT)" if res["error"] == "slower than the time limit" else ""
            raise dg.Failure(f"model {f.name}, {f.where}: {res['error']}{limit}", allow_retries=False)
        if res.get("label_blind_probe"):
            label_blind[f.name] = {"fold": f.where, "rows_reordered_scores_follow": True,
                                   "inputs": "train features + train labels; test features only (no label, no row id)"}
        c = cost.setdefault(f"positive_control:{f.name}" if f.positive_control else f.name, {"fits": 0, "fit_seconds": 0.0, "cpu_seconds": 0.0, "peak_rss_mb": 0.0,
                                     "seeds": []})
        c["seeds"] = sorted(set(c["seeds"]) | {a[4]})
        c["fits"] += 1
        c["fit_seconds"] = round(c["fit_seconds"] + res["fit_seconds"], 3)
        c["cpu_seconds"] = round(c["cpu_seconds"] + res["cpu_seconds"], 3)
        c["peak_rss_mb"] = max(c["peak_rss_mb"], res["peak_rss_mb"])
    context.log.info(f"plug-ins {list(plugins)}: {len(fits)} fits on fit workers")
    return results, label_blind, cost
