"""Category D, confounder prediction (SPEC §8), pathway features from the release.

D3 mission id (liver, 6 classes), D4 strain (thymus GC: C57BL/6J vs C57BL/6CR), D5 hardware RR vs
MHU (liver, thymus), D6 gravity uG / AG / GC (MHU-2 liver, thymus). Features: the tissue's
Hallmark GSVA scores, StandardScaler, LogisticRegression (lbfgs, C 1, balanced, max_iter 2000,
seed 42). Cross-validation as published: D3 ``RepeatedStratifiedKFold(5, 10, random_state=42)``
with class probabilities averaged over repeats; D4 and D6 leave-one-out; D5 repeated k-fold when
its smallest class has more than 15 samples (thymus), else leave-one-out (liver). Metrics: macro-F1 (primary), accuracy, per-class F1, confusion matrix, bootstrap CI
(2000; none for D6 in seed, as published; strict bootstraps D6 too: liver [0.111, 0.583], thymus
[0.277, 1.0]) and permutation p (10,000 with repeated k-fold, 5,000 with
leave-one-out), on the published ``RandomState(42)`` streams.

Samples (index sorted, as the published alignment): every scored sample of the tissue (D3, D5),
its Ground Controls (D4), its MHU-2 Flight / AG / GC samples (D6). Labels: mission (from the
sample's own file), hardware (from the mission), strain (task metadata, except where the sample
name says C57-6CR: the release's A4 metadata calls the MHU-1 ground controls C57BL/6J, issue 11
defect 3, while their names and the published D4 say C57BL/6CR), gravity (sample-name tokens;
MHU-2 GEO-id samples: task metadata Flight = uG, GC = GC, and MHU-2's only non-binary group, AG).

Protocols: ``seed`` takes the thymus MHU-1 samples' rows from the MHU-2 file's repeat (defect 2,
as published); ``strict`` from their own MHU-1 file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.categories import release_samples
from genebench_assets.science.categories.release_samples import DuplicateRows
from genebench_assets.science.evaluation import multiclass_metrics

HARDWARE = {"RR-1": "RR", "RR-3": "RR", "RR-5": "RR", "RR-6": "RR", "RR-7": "RR", "RR-8": "RR", "RR-9": "RR",
            "MHU-1": "MHU", "MHU-2": "MHU"}
TASKS = {
    "D3": dict(tissue="liver", target="mission", description="Mission ID prediction (6-class, liver)"),
    "D4": dict(tissue="thymus", target="strain", description="Strain effect (thymus GC, C57BL/6J vs C57BL/6CR, exploratory n=3)"),
    "D5_liver": dict(tissue="liver", target="hardware", description="Hardware effect (liver, RR vs MHU, collinear with D3)"),
    "D5_thymus": dict(tissue="thymus", target="hardware", description="Hardware effect (thymus, RR vs MHU, collinear with D3)"),
    "D6_liver": dict(tissue="liver", target="gravity", description="Artificial gravity (liver MHU-2, 3-class)"),
    "D6_thymus": dict(tissue="thymus", target="gravity", description="Artificial gravity (thymus MHU-2, 3-class)"),
}
LOO_MAX_MINORITY = 15
MIN_PER_CLASS = 2
N_BOOTSTRAP = 2000


class ConditionTaskError(ValueError):
    """A D task cannot run on these samples (message names task, class and count)."""


def task_labels(samples: pd.DataFrame, task_id: str) -> pd.Series:
    """The task's samples (sorted ids) and their class labels."""
    target = TASKS[task_id]["target"]
    s = samples.sort_index()
    if target == "mission":
        return s["mission"].rename("class")
    if target == "hardware":
        hw = s["mission"].map(HARDWARE)
        return hw[hw.notna()].rename("class")
    if target == "strain":
        gc = s[s["group"] == "GC"]
        strain = gc["strain_release"].where(gc["strain_name"] != "C57BL/6CR", "C57BL/6CR")
        return strain.rename("class")
    if target == "gravity":
        mhu2 = s[s["mission"] == "MHU-2"]
        from_group = mhu2["group"].map({"Flight": "uG", "GC": "GC", "uG": "uG", "AG": "AG"})
        gravity = mhu2["gravity"].fillna(from_group)
        gravity = gravity.where(gravity.notna() | mhu2["binary"].notna(), "AG")
        return gravity[gravity.isin(["uG", "AG", "GC"])].rename("class")
    raise ConditionTaskError(f"{task_id}: unknown target {target!r}")


def task_samples(release_dir: Path | str, task_id: str, db: str = "hallmark") -> pd.Series:
    """The task's samples (sorted ids) and class labels, read from the release."""
    return task_labels(release_samples.tissue_samples(release_dir, TASKS[task_id]["tissue"], db), task_id)


def class_counts(y: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in y.value_counts().sort_index().items()}


def class_minimum_problems(counts: dict[str, int], minimum: int = MIN_PER_CLASS) -> list[str]:
    """Why these class counts cannot be cross-validated (empty when they can)."""
    problems = [f"only one class {list(counts)}"] if len(counts) < 2 else []
    problems += [f"class {c!r} has {n} samples, fewer than {minimum}" for c, n in counts.items() if n < minimum]
    return problems


def stored_labels(y: pd.Series) -> dict[str, str]:
    """The task's label column as the result files store it: {sample id: class}."""
    return {str(k): str(v) for k, v in y.items()}


def recounted_class_problems(doc: dict, fitted: list[tuple[str, dict | None]]) -> tuple[dict[str, int], list[str]]:
    """The class-minimum check of a stored D result, from the stored evidence rather than the counts
    the asset wrote: the classes are recounted from the stored label column (`doc["labels"]`); the
    recount must equal the recorded `class_counts` and, for every fitted result in `fitted` (name, the
    stored evaluation or None), the samples it fitted and its confusion matrix's row sums (the true
    class of every prediction); the minimums are applied to the recount. Returns (recount, problems)."""
    from collections import Counter

    labels = doc.get("labels")
    if not isinstance(labels, dict):
        return {}, ["the result file has no per-sample labels to recount (re-materialize it)"]
    recount = dict(sorted(Counter(map(str, labels.values())).items()))
    problems = []
    if recount != doc.get("class_counts"):
        problems.append(f"recorded class counts {doc.get('class_counts')} are not the stored labels' {recount}")
    for name, res in fitted:
        if res is None:
            continue
        samples = res.get("_details", {}).get("samples")
        if samples is not None and sorted(map(str, samples)) != sorted(labels):
            problems.append(f"{name}: fitted {len(samples)} samples, not the {len(labels)} labelled ones")
        rows = {str(c): int(sum(r)) for c, r in zip(res.get("classes", []), res.get("confusion_matrix", []))}
        if rows != recount:
            problems.append(f"{name}: the confusion matrix's true classes {rows} are not the stored labels' {recount}")
    return recount, class_minimum_problems(recount, int(doc.get("min_per_class", MIN_PER_CLASS))) + problems


def check_class_minimums(y: pd.Series, task_id: str, minimum: int = MIN_PER_CLASS) -> None:
    """Every class needs ``minimum`` samples (leave-one-out must keep each class in training)."""
    problems = class_minimum_problems(class_counts(y), minimum)
    if problems:
        raise ConditionTaskError(f"{task_id}: {problems[0]}")


def _lr():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(solver="lbfgs", class_weight="balanced", max_iter=2000, C=1.0, random_state=42)


def predict_repeated_kfold(X: np.ndarray, y: np.ndarray, n_splits: int = 5, n_repeats: int = 10):
    """Per-sample class from probabilities averaged over repeats of stratified k-fold."""
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.preprocessing import StandardScaler

    classes = sorted(np.unique(y))
    prob = np.zeros((len(y), len(classes)))
    count = np.zeros(len(y))
    for tr, te in RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=42).split(X, y):
        scaler = StandardScaler()
        clf = _lr().fit(scaler.fit_transform(X[tr]), y[tr])
        proba = clf.predict_proba(scaler.transform(X[te]))
        for i, c in enumerate(clf.classes_):
            prob[te, classes.index(c)] += proba[:, i]
        count[te] += 1
    prob /= count[:, None]
    return np.array([classes[i] for i in np.argmax(prob, axis=1)]), classes


def predict_leave_one_out(X: np.ndarray, y: np.ndarray):
    from sklearn.model_selection import LeaveOneOut
    from sklearn.preprocessing import StandardScaler

    pred = np.empty(len(y), dtype=object)
    for tr, te in LeaveOneOut().split(X, y):
        scaler = StandardScaler()
        clf = _lr().fit(scaler.fit_transform(X[tr]), y[tr])
        pred[te] = clf.predict(scaler.transform(X[te]))
    return pred.astype(str), sorted(np.unique(y))


def run_task(release_dir: Path | str, task_id: str, protocol: str = "seed", db: str = "hallmark", *,
             n_bootstrap: int | None = None, n_permutations: int | None = None, check: bool = True) -> dict:
    """One D task with pathway features, in the published ``feature_modes.pathway`` layout.
    ``check=False`` leaves the class minimums to the caller (the Dagster asset check)."""
    from genebench_assets.science.protocols import check_protocol

    check_protocol(protocol, "condition-prediction protocol")
    tissue = TASKS[task_id]["tissue"]
    y_s = task_samples(release_dir, task_id, db)
    if check:
        check_class_minimums(y_s, task_id)
    rule = DuplicateRows.SEED_LAST if protocol == "seed" else DuplicateRows.OWN_MISSION
    scores, source = release_samples.stacked_scores(release_dir, tissue, db, release_samples.SEED_TISSUE_MISSIONS[tissue], rule)
    X = np.nan_to_num(scores.loc[y_s.index].values.astype(float), nan=0.0)
    if protocol == "strict" and n_bootstrap is None:
        n_bootstrap = N_BOOTSTRAP    # strict gives every task its CI (seed D6: none, as published)
    out = evaluate_features(X, y_s, task_id, n_bootstrap=n_bootstrap, n_permutations=n_permutations)
    out["_details"].update(protocol=protocol, row_source={s: source[s] for s in y_s.index})
    return out


def evaluate_features(X: np.ndarray, y_s: pd.Series, task_id: str, *, n_bootstrap: int | None = None,
                      n_permutations: int | None = None) -> dict:
    """The D evaluation of one feature matrix (rows = `y_s`'s samples, in its order), any feature set:
    the published cross-validation rule, macro-F1, accuracy, per-class F1, confusion matrix, bootstrap
    CI and permutation p (module docstring)."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    y = y_s.values.astype(str)
    minority = int(y_s.value_counts().min())
    loo = task_id.startswith(("D4", "D6")) or (task_id.startswith("D5") and minority <= LOO_MAX_MINORITY)
    if loo:
        y_pred, classes = predict_leave_one_out(X, y)
        cv, default_perm = "leave_one_out", 5000
    else:
        y_pred, classes = predict_repeated_kfold(X, y)
        cv, default_perm = "repeated_stratified_kfold_5x10", 10_000
    n_perm = default_perm if n_permutations is None else n_permutations
    n_boot = (0 if task_id.startswith("D6") else N_BOOTSTRAP) if n_bootstrap is None else n_bootstrap
    per_class = classification_report(y, y_pred, output_dict=True, zero_division=0)
    ci_low, ci_high = multiclass_metrics.bootstrap_macro_f1_ci(y, y_pred, n_boot) if n_boot else (float("nan"), float("nan"))
    out = {
        "n_features": int(X.shape[1]),
        "macro_f1": multiclass_metrics.macro_f1(y, y_pred),
        "accuracy": float(accuracy_score(y, y_pred)),
        "ci_low": ci_low, "ci_high": ci_high,
        "perm_p": multiclass_metrics.permutation_p_macro_f1(y, y_pred, n_perm),
        "per_class_f1": {str(c): per_class.get(c, {}).get("f1-score", 0) for c in classes},
        "confusion_matrix": confusion_matrix(y, y_pred, labels=classes).tolist(),
        "classes": [str(c) for c in classes],
    }
    if task_id != "D3":          # the published D3 entry carries no per-sample lists
        out["y_true"] = y.tolist()
        out["y_pred"] = y_pred.tolist()
    out["_details"] = {"cv": cv, "n_permutations": n_perm, "n_bootstrap": n_boot, "samples": list(y_s.index),
                       "class_counts": class_counts(y_s)}
    return out


def source_task_samples(metadata: pd.DataFrame, task_id: str) -> pd.Series:
    """The task's samples and classes from our own sample_metadata (demo, live, mirror): QC-kept samples
    of the task's tissue; strain from the metadata's parsed strain; gravity from the group (Flight = uG,
    GC, AG). Same rules as the release (`task_labels`)."""
    m = metadata.copy()
    if "sample_id" in m.columns:
        m = m.set_index("sample_id")
    m.index = m.index.astype(str)
    m = m[m["tissue"].astype(str) == TASKS[task_id]["tissue"]]
    if "excluded" in m.columns:
        m = m[~m["excluded"].fillna(False).astype(bool)]
    frame = pd.DataFrame({"mission": m["mission"].astype(str), "group": m["group"].astype(str),
                          "strain_release": m["strain"].astype(str), "strain_name": m["strain"].astype(str),
                          "gravity": np.nan, "binary": m["label"]}, index=m.index)
    return task_labels(frame, task_id)
