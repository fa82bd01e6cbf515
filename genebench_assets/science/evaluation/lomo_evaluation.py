"""Per-fold and per-task evaluation of Category A predictions (SPEC §7).

- ``evaluate_fold``: AUROC, 95 % bootstrap CI, permutation p and class counts of one fold.
- ``summarize_task``: means over folds and the GO / NO-GO rule (mean AUROC > 0.700, mean CI lower
  > 0.500, mean p < 0.050). The standard deviation is numpy's default (ddof = 0), as published.
- ``pooled_auroc``: all folds' test predictions together, with a bootstrap CI.
- ``planted_label_copy`` / ``controls_bracket``: the controls (after Open Problems): random scores
  near 0.5; the positive control = each model on a copy of the fold with label-carrying features
  planted (it exercises the pipeline); any model below the negative control's interval or above its
  positive control is flagged.
- ``render_markdown_table``: the task table for the UI.
- ``evaluate_predictions``: a model_predictions table of every fold -> per-fold metrics and per
  (feature set, model) task summaries, positive control included. The ROC plot is in ``plots``.
"""

from __future__ import annotations

import math

import numpy as np

from genebench_assets.science.evaluation import metrics
from genebench_assets.science.markdown_tables import markdown_table

GO_AUROC = 0.700
GO_CI_LOWER = 0.500
GO_PERM_P = 0.050


def evaluate_fold(y, scores, *, randomness="seed_randomstate", n_boot: int = 2000, n_perm: int = 1000,
                  fold_index: int = 0) -> dict:
    """Metrics of one fold. ``randomness``: a mode of ``metrics.RANDOMNESS_MODES`` or a
    ``metrics.Randomness``; ``fold_index`` selects the fold's own streams in "strict" mode (the seed
    modes restart from seed 42 in every fold, as the published code did)."""
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    rnd = randomness if isinstance(randomness, metrics.Randomness) else metrics.Randomness(str(randomness), fold_index=fold_index)
    n_flight = int((y == 1).sum())
    n_ground = int((y == 0).sum())
    if n_flight == 0 or n_ground == 0:
        raise ValueError(f"fold test set holds a single class ({n_flight} Flight, {n_ground} Ground): AUROC undefined")
    auroc = metrics.auroc(y, scores)
    ci_lower, ci_upper = metrics.bootstrap_auroc_ci(y, scores, n_boot=n_boot, randomness=rnd)
    perm_p = metrics.permutation_p(y, scores, n_perm=n_perm, randomness=rnd)
    return {"auroc": auroc, "ci_lower": ci_lower, "ci_upper": ci_upper, "perm_p": perm_p,
            "n_test": int(len(y)), "n_flight_test": n_flight, "n_ground_test": n_ground}


def summarize_task(fold_results: list[dict]) -> dict:
    """Task means and GO / NO-GO from per-fold results (each with auroc, ci_lower, perm_p)."""
    if not fold_results:
        raise ValueError("no fold results to summarize")
    aurocs = [r["auroc"] for r in fold_results]
    mean_auroc = float(np.mean(aurocs))
    mean_ci_lower = float(np.mean([r["ci_lower"] for r in fold_results]))
    mean_perm_p = float(np.mean([r["perm_p"] for r in fold_results]))
    go_auroc = mean_auroc > GO_AUROC
    go_ci = mean_ci_lower > GO_CI_LOWER
    go_perm = mean_perm_p < GO_PERM_P
    return {"n_folds": len(fold_results), "mean_auroc": mean_auroc, "std_auroc": float(np.std(aurocs)),
            "mean_ci_lower": mean_ci_lower, "mean_perm_p": mean_perm_p, "go_auroc": go_auroc,
            "go_ci": go_ci, "go_perm": go_perm, "go": go_auroc and go_ci and go_perm}


def pooled_auroc(y_by_fold, scores_by_fold, *, randomness="seed_randomstate", n_boot: int = 2000) -> dict:
    """AUROC of all folds' test predictions concatenated (fold order), with its bootstrap CI."""
    y_by_fold, scores_by_fold = list(y_by_fold), list(scores_by_fold)
    if len(y_by_fold) != len(scores_by_fold):
        raise ValueError(f"{len(y_by_fold)} label arrays but {len(scores_by_fold)} score arrays")
    y = np.concatenate([np.asarray(v, dtype=np.float64) for v in y_by_fold])
    s = np.concatenate([np.asarray(v, dtype=np.float64) for v in scores_by_fold])
    # strict mode: a stream of its own, after the per-fold ones
    rnd = randomness if isinstance(randomness, metrics.Randomness) else metrics.Randomness(str(randomness), fold_index=len(y_by_fold))
    lo, hi = metrics.bootstrap_auroc_ci(y, s, n_boot=n_boot, randomness=rnd)
    return {"pooled_auroc": metrics.auroc(y, s), "pooled_ci_lower": lo, "pooled_ci_upper": hi, "n_pooled": int(len(y))}


def positive_control_scores(y_test) -> np.ndarray:
    """Scores taken from the true labels: AUROC exactly 1. Not the benchmark's positive control any
    more (that one runs the pipeline: `planted_label_copy`); kept as the ceiling in unit tests."""
    return np.asarray(y_test, dtype=np.float64).copy()


# The positive control's rows in model_predictions: "positive_control:lr" = lr on the planted copy.
POSITIVE_CONTROL_PREFIX = "positive_control:"
PLANTED_FEATURE_PREFIX = "planted_label_feature_"
POSITIVE_CONTROL_MIN = 0.9  # every model must find the planted label features at least this well


def positive_control_fold(folds: list) -> str | None:
    """The one fold the positive control runs on (a product decision, issue 22): the LOMO fold with the
    most training samples (ties: the first fold id), so the control costs one fit per tissue x feature set x
    model instead of one per fold. It tests the pipeline (features, scaler, PCA, classifier, evaluation),
    which is the same code on every fold; the fold with the most training data is the least likely to
    fail it for lack of samples. Holdout folds are not LOMO folds and never chosen."""
    lomo = [f for f in folds if not getattr(f, "holdout", False)]
    if not lomo:
        return None
    return min(lomo, key=lambda f: (-len(f.train_ids), f.fold_id)).fold_id


def planted_label_copy(X_train, y_train, X_test, y_test, *, seed: int = 42, n_planted: int | None = None,
                       noise_sd: float = 0.5):
    """A copy of a fold's features with label-carrying columns added: each planted column is the label
    (train labels on training rows, test labels on test rows) plus N(0, `noise_sd`) noise, z-scored
    like the rest. Run through the same models, it is a positive control that exercises the pipeline
    (feature handling, scaler, PCA, classifier, evaluation) rather than scoring with the labels:
    a model that cannot find it is broken. `n_planted` default: 5 % of the features (>= 10), so the
    signal survives PCA's dimension reduction as it would a real coordinated expression change."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_planted = n_planted or max(10, X_train.shape[1] // 20)
    cols = [f"{PLANTED_FEATURE_PREFIX}{i}" for i in range(n_planted)]
    y_tr = np.asarray(y_train, dtype=float)[:, None]
    y_te = np.asarray(y_test, dtype=float)[:, None]
    p_tr = y_tr + rng.normal(0.0, noise_sd, (len(y_tr), n_planted))
    p_te = y_te + rng.normal(0.0, noise_sd, (len(y_te), n_planted))
    mu, sd = p_tr.mean(axis=0), p_tr.std(axis=0, ddof=1)
    Xp_train = pd.concat([X_train, pd.DataFrame((p_tr - mu) / sd, index=X_train.index, columns=cols)], axis=1)
    Xp_test = pd.concat([X_test, pd.DataFrame((p_te - mu) / sd, index=X_test.index, columns=cols)], axis=1)
    return Xp_train, Xp_test


def controls_bracket(metric_by_model: dict[str, float], *, negative_interval: tuple[float, float] | None = None,
                     negative: str = "negative_control", positive_prefix: str = POSITIVE_CONTROL_PREFIX,
                     tolerance: float = 0.15, positive_min: float = POSITIVE_CONTROL_MIN) -> dict:
    """The controls bracket every model's metric (AUROC), or the model is flagged.

    - negative control (random scores) within ``tolerance`` of 0.5; its interval = ``negative_interval``
      (its bootstrap CI) when given, else 0.5 +- tolerance;
    - positive control ``positive_control:<model>`` (the model on the planted-label copy) >=
      ``positive_min`` for every model;
    - every model: below the negative control's interval (anti-predictive: a flipped label, a
      mis-joined prediction) or above its own positive control (a real model beating perfectly
      planted features points at a leak) is a problem.
    Returns {passed, negative, negative_interval, positive {model: value}, flagged {model: reason},
    problems}."""
    problems, flagged = [], {}
    neg = metric_by_model.get(negative)
    if neg is None or (isinstance(neg, float) and math.isnan(neg)):
        problems.append(f"negative control {negative!r} missing")
        interval = None
    else:
        if abs(neg - 0.5) > tolerance:
            problems.append(f"negative control {negative!r} = {neg:.3f}, not within {tolerance} of 0.5")
        interval = tuple(negative_interval) if negative_interval else (0.5 - tolerance, 0.5 + tolerance)
    positives = {name[len(positive_prefix):]: v for name, v in metric_by_model.items() if name.startswith(positive_prefix)}
    models = {n: v for n, v in metric_by_model.items() if n != negative and not n.startswith(positive_prefix)}
    for name, value in models.items():
        if name not in positives:
            problems.append(f"positive control {positive_prefix}{name} missing")
        if not (0.0 <= value <= 1.0):
            flagged[name] = f"{value!r} outside [0, 1]"
        elif interval is not None and value < interval[0]:
            flagged[name] = f"{value:.3f} below the negative control's interval [{interval[0]:.3f}, {interval[1]:.3f}]"
        elif name in positives and value > positives[name]:
            flagged[name] = f"{value:.3f} above its positive control {positives[name]:.3f}"
    for name, value in positives.items():
        if value < positive_min:
            problems.append(f"positive control {positive_prefix}{name} = {value:.3f} < {positive_min}: the model "
                            "cannot find features planted with the label")
    problems += [f"{name} = {why}" for name, why in flagged.items()]
    return {"passed": not problems, "negative": neg, "negative_interval": list(interval) if interval else None,
            "positive": positives, "flagged": flagged, "problems": problems}


BELOW_CHANCE = "below the negative control's interval"


def bracket_severity(problems: list[str]) -> str:
    """"WARN" when every problem is a model below chance: a finding reported beside its number (the
    published kidney models are below chance too). "ERROR" otherwise: broken controls, a model above its
    own positive control (a leak's sign) or a summary that disagrees with the stored scores."""
    return "WARN" if problems and all(BELOW_CHANCE in p for p in problems) else "ERROR"


def controls_bracket_by_feature_set(tasks) -> tuple[dict, list[str]]:
    """`controls_bracket` per feature set of an evaluation_summary frame (mean AUROC per model; the
    negative control's interval = chance, 0.5, +- the half-width of its pooled bootstrap CI).
    Returns ({feature set: bracket}, problems).

    Why centred on 0.5 and not the random draw's own CI: the CI's width is the sampling spread of a
    no-signal model at this tissue's sample sizes, but its centre is one random draw's luck. On the
    calibrated demo, kidney's random scores drew a pooled AUROC whose CI started at 0.497, so every
    near-chance model was flagged as anti-predictive; no-signal is at 0.5 by definition."""
    brackets, problems = {}, []
    for feature_set, g in tasks.groupby("feature_set", sort=True):
        metric = {r["model"]: float(r["mean_auroc"]) for _, r in g.iterrows()}
        neg = g[g["model"] == "negative_control"]
        interval = None
        if len(neg) and {"pooled_ci_lower", "pooled_ci_upper"} <= set(g.columns):
            half_width = (float(neg["pooled_ci_upper"].iloc[0]) - float(neg["pooled_ci_lower"].iloc[0])) / 2
            if math.isfinite(half_width):
                interval = (0.5 - half_width, 0.5 + half_width)
        res = controls_bracket(metric, negative_interval=interval)
        brackets[str(feature_set)] = {k: res[k] for k in ("negative", "negative_interval", "positive", "flagged")}
        problems += [f"{feature_set}: {p}" for p in res["problems"]]
    return brackets, problems


def controls_bracket_from_predictions(preds, folds: list, *, protocol: str, summary=None,
                                      tolerance: float = 1e-9) -> tuple[dict, list[str]]:
    """The controls bracket recomputed from the stored scores, not from a summary: per (feature set,
    model), the mean AUROC over the LOMO folds of the stored predictions against the folds' test
    labels, and the negative control's interval from the pooled bootstrap CI of its stored scores;
    then the rule of `controls_bracket_by_feature_set`. With `summary` (an evaluation_summary frame),
    a model whose recorded mean AUROC is not the recomputed one, or that is missing on either side,
    is a problem too. Returns ({feature set: bracket}, problems)."""
    import pandas as pd

    from genebench_assets.science.protocols import evaluation_randomness
    from genebench_assets.science.tasks.folds import fold_test_labels

    randomness = evaluation_randomness(protocol)
    labels = {f.fold_id: fold_test_labels(f) for f in folds}
    rows = []
    if "seed" in preds.columns:  # several seeds: each model's mean AUROC is the mean over seeds (as the summary)
        _, tasks = evaluate_over_seeds(preds, folds, protocol=protocol)
        for _, r in tasks.iterrows():
            row = {"feature_set": r["feature_set"], "model": r["model"], "mean_auroc": float(r["mean_auroc"])}
            if r["model"] == "negative_control":
                row.update({k: float(r[k]) for k in ("pooled_auroc", "pooled_ci_lower", "pooled_ci_upper")})
            rows.append(row)
        groups = []
    else:
        groups = preds.groupby(["feature_set", "model"], sort=True)
    for (feature_set, model), g in groups:
        ys, ss = [], []
        for fold_id, gf in g.groupby("fold_id", sort=True):
            if str(fold_id).endswith("_holdout"):
                continue
            ys.append(labels[fold_id].loc[gf["sample_id"]].to_numpy())
            ss.append(gf["score"].to_numpy())
        row = {"feature_set": feature_set, "model": model,
               "mean_auroc": float(np.mean([metrics.auroc(y, s) for y, s in zip(ys, ss)]))}
        if model == "negative_control":
            row.update(pooled_auroc(ys, ss, randomness=randomness))
        rows.append(row)
    recomputed = pd.DataFrame(rows)
    brackets, problems = controls_bracket_by_feature_set(recomputed)
    if summary is not None:
        mine = {(r["feature_set"], r["model"]): r["mean_auroc"] for r in rows}
        theirs = {(str(r["feature_set"]), str(r["model"])): float(r["mean_auroc"]) for _, r in summary.iterrows()}
        for key in sorted(set(mine) | set(theirs)):
            if key not in mine or key not in theirs:
                problems.append(f"{key[0]}: {key[1]} is in {'the summary' if key in theirs else 'the predictions'} only")
            elif not abs(mine[key] - theirs[key]) <= tolerance:
                problems.append(f"{key[0]}: {key[1]}'s mean AUROC in evaluation_summary {theirs[key]:.4f} is not the "
                                f"stored scores' {mine[key]:.4f}")
    return brackets, problems


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "GO" if value else "NO-GO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_markdown_table(summary_by_model: dict[str, dict], *, title: str | None = None) -> str:
    """Markdown for the UI: one row per model (task means and GO), then one row per model and fold."""
    lines = [f"### {title}", ""] if title else []
    lines.append(markdown_table(
        ["model", "folds", "mean AUROC", "SD", "mean CI lower", "mean perm p", "GO"],
        [[model, s["n_folds"], _fmt(s["mean_auroc"]), _fmt(s["std_auroc"]), _fmt(s["mean_ci_lower"]),
          _fmt(s["mean_perm_p"]), _fmt(bool(s["go"]))] for model, s in summary_by_model.items()]))
    fold_rows = [(model, f) for model, s in summary_by_model.items() for f in s.get("folds", [])]
    if fold_rows:
        lines += ["", markdown_table(
            ["model", "test mission", "n (F/G)", "AUROC", "95 % CI", "perm p"],
            [[model, f.get("test_mission", f.get("fold_id", "")), f"{f['n_test']} ({f['n_flight_test']}/{f['n_ground_test']})",
              _fmt(f["auroc"]), f"[{_fmt(f['ci_lower'])}, {_fmt(f['ci_upper'])}]", _fmt(f["perm_p"])]
             for model, f in fold_rows])]
    return "\n".join(lines) + "\n"


def evaluate_predictions(preds, folds: list, *, protocol: str):
    """Per-fold metrics and per (feature set, model) task summaries, including the positive control.

    preds: rows (fold_id, feature_set, model, sample_id, score); folds: ``folds.Fold`` objects (their
    test labels are read here, by the evaluator, never by a model). Returns (per_fold, tasks) frames."""
    import pandas as pd

    from genebench_assets.science.protocols import evaluation_randomness
    from genebench_assets.science.tasks.folds import fold_test_labels

    if "seed" in preds.columns:  # several seeds (ModelSettings.seeds): each evaluated, then mean ± sd
        return evaluate_over_seeds(preds, folds, protocol=protocol)
    randomness = evaluation_randomness(protocol)
    labels = {f.fold_id: fold_test_labels(f) for f in folds}
    fold_rows, task_rows = [], []
    # The positive controls are rows of preds ("positive_control:<model>": the model on the fold's
    # planted-label copy, run by model_predictions), evaluated like every model.
    groups = list(preds.groupby(["feature_set", "model"], sort=True))
    for (feature_set, model), g in groups:
        per_fold, pooled_y, pooled_s = [], [], []
        for fold_index, (fold_id, gf) in enumerate(g.groupby("fold_id", sort=True)):
            y = labels[fold_id].loc[gf["sample_id"]].to_numpy()
            s = gf["score"].to_numpy()
            res = evaluate_fold(y, s, randomness=randomness, fold_index=fold_index)
            fold = next(f for f in folds if f.fold_id == fold_id)
            res.update({"fold_id": fold_id, "test_mission": fold.test_mission,
                        "train_missions": ", ".join(fold.train_missions),
                        "feature_set": feature_set, "model": model})
            per_fold.append(res)
            pooled_y.append(y)
            pooled_s.append(s)
        fold_rows.extend(per_fold)
        lomo = [r for r in per_fold if not r["fold_id"].endswith("_holdout")]
        summary = summarize_task(lomo)
        keep = [not r["fold_id"].endswith("_holdout") for r in per_fold]
        pooled = pooled_auroc([y for y, k in zip(pooled_y, keep) if k], [s for s, k in zip(pooled_s, keep) if k],
                              randomness=randomness)
        task_rows.append({"feature_set": feature_set, "model": model, **summary, **pooled})
    return pd.DataFrame(fold_rows), pd.DataFrame(task_rows)


def evaluate_over_seeds(preds, folds: list, *, protocol: str):
    """`evaluate_predictions` per seed of a multi-seed predictions table (a `seed` column), then per task
    the mean over seeds of every number, with `sd_auroc_over_seeds` (sample sd of the seeds' mean
    AUROCs; 0 with one seed), `n_seeds` and `seeds`; GO by the usual rule on the means. per_fold gets a
    `seed` column (the mean ± sd: science/evaluation/over_seeds.py)."""
    import pandas as pd

    from genebench_assets.science.evaluation.over_seeds import frame_over_seeds

    folds_out, tasks_out = [], []
    for seed, g in preds.groupby("seed", sort=True):
        pf, tk = evaluate_predictions(g.drop(columns="seed"), folds, protocol=protocol)
        folds_out.append(pf.assign(seed=int(seed)))
        tasks_out.append(tk.assign(seed=int(seed)))
    per_fold = pd.concat(folds_out, ignore_index=True)
    by_seed = pd.concat(tasks_out, ignore_index=True)
    return per_fold, frame_over_seeds(by_seed, ["feature_set", "model"], "mean_auroc", rules=go_on_means)


def go_on_means(row: dict) -> dict:
    """SPEC §7's GO rule on a task's means over seeds (science/evaluation/over_seeds.py leaves rules out)."""
    out = {"go_auroc": row["mean_auroc"] > GO_AUROC, "go_ci": row["mean_ci_lower"] > GO_CI_LOWER,
           "go_perm": row["mean_perm_p"] < GO_PERM_P}
    out["go"] = out["go_auroc"] and out["go_ci"] and out["go_perm"]
    return out
