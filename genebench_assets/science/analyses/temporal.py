"""T1-T3 of GeneLab benchmark v2 (issue 21): sacrifice timing, LAR recovery, age x spaceflight, from the
release's per-mission GSVA Hallmark scores, in the published layout of ``T1_temporal_timing_summary.json``,
``T2_recovery_summary.json`` and ``T3_age_spaceflight_summary.json``.

What the seed did (``v2/scripts/temporal_analysis.py`` then ``scripts/integrate_temporal.py``, MIT):
groups come from the GeneLab sample names (``_FLT_ / _GC_ / _BSL_ / _VIV_``, ``_ISS-T_ / _LAR_``,
``_OLD_ / _YNG_``; its metadata columns were parsed from the same names); samples are aligned in sorted id
order; features are the tissue's Hallmark GSVA scores stacked over its missions (NaN -> 0).

- binary task (T1 ISS-T vs LAR within FLT / GC / BSL; T3 OLD vs YNG overall and within FLT / GC / VIV; T3
  FLT vs GC within OLD / YNG): pathway mode = StandardScaler + LogisticRegression (lbfgs, balanced, C 1,
  max_iter 2000, seed 42) in ``RepeatedStratifiedKFold(min(5, smaller class) x 10, random_state=42)``,
  probabilities averaged over repeats (leave-one-out when the smaller class has < 5); AUROC of the averaged
  probabilities, bootstrap 95 % CI (2000, ``RandomState(42)``, NaN under 100 two-class resamples) and
  permutation p (10,000, ``RandomState(42)``);
- T1d: train on one mission's condition, test on the other's (scaler + LR), pathways in sorted order;
- T2 pathway recovery (DD-20, as coded): per pathway of the mission's own file, delta_flight = mean FLT_ISS-T
  - mean BSL_ISS-T, delta_return = mean FLT_LAR - mean BSL_LAR; |delta_flight| < 0.1 skipped; fraction =
  1 - delta_return / delta_flight; "recovering" = fraction > 0;
- T3c: per pathway ``score ~ C(flight) + C(age) + C(flight):C(age)`` (statsmodels OLS, type-II ANOVA) on FLT +
  GC ISS-T animals, BH FDR of the interaction p-values (DD-19).

Gene-level fields (every ``*_gene`` condition, T1's ``interpretation``, T1d's gene transfers, T2's PCA ratio /
variance / classifier projection, T3's ``aging_hypothesis`` and ``evidence``) need expression of these animals,
which the release does not ship: they are written as the seed leaves a condition without features
(``{"status": "SKIP", "reason": ...}``) or ``null``, and listed under ``not_reproduced`` in each file.

Seed defects, fixed in ``strict_variant`` (stored beside, never in the published layout):
1. T2 counts a pathway whose LAR difference crossed to the other side of baseline (ratio < 0, fraction > 1)
   as "recovering", whatever its size (a pathway that ends twice as far off baseline on the other side counts),
   and DD-20 documents ``1 - |ratio|``, which the code does not use; strict splits recovering (0 < f <= 1),
   overshoot (f > 1) and not recovering (f <= 0).
2. The verdict and evidence strings are fixed text of ``integrate_temporal.py`` (evidence quoting gene-level
   numbers), not derived from any result; strict leaves them out.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from genebench_assets.science.categories.condition_prediction import _lr
from genebench_assets.science.categories.release_samples import SEED_TISSUE_MISSIONS, DuplicateRows, stacked_scores
from genebench_assets.science.evaluation import metrics
from genebench_assets.science.release import genelab_release

FILENAMES = {"T1": "T1_temporal_timing_summary.json", "T2": "T2_recovery_summary.json",
             "T3": "T3_age_spaceflight_summary.json"}
DB = "hallmark"
N_SPLITS, N_REPEATS, N_PERM, N_BOOTSTRAP, MIN_BOOTSTRAPS = 5, 10, 10_000, 2000, 100
RECOVERY_MIN_DELTA = 0.1
SOURCE = "v2/evaluation/T_temporal_summary.json"
GENE_REASON = ("not reproducible offline: needs gene expression of these animals, which the GeneLab release "
               "does not ship (its task files keep Flight / Ground only)")
GENE_SKIP = {"status": "SKIP", "reason": GENE_REASON}
SEED_TEXT = "fixed text of the seed's integrate_temporal.py, not derived from any result (strict leaves it out)"
_GROUP = re.compile(r"_(FLT|GC|BSL|VIV)_")


class TemporalDataError(ValueError):
    """The release's scores do not hold the animals a T task needs (message names file and value)."""


# ---------------------------------------------------------------------------------------------
# samples and features
# ---------------------------------------------------------------------------------------------

def parse_sample(sample_id: str) -> dict:
    """Group, sacrifice timing and age of a GeneLab sample name (the seed's quality_filter rules)."""
    name = sample_id.upper()
    group = _GROUP.search(name)
    timing = "ISS-T" if "_ISS-T_" in name or name.endswith("_ISS-T") else \
        "LAR" if "_LAR_" in name or name.endswith("_LAR") else "unknown"
    age = "OLD" if "_OLD_" in name or name.endswith("_OLD") else "YNG" if "_YNG_" in name or name.endswith("_YNG") else "unknown"
    return {"group": group.group(1) if group else None, "timing": timing, "age": age}


def mission_samples(release_dir: Path | str, tissue: str, mission: str) -> pd.DataFrame:
    """Every animal scored in the mission's own GSVA file, sorted by id: group, timing, age."""
    files = genelab_release.pathway_score_files(release_dir, tissue, mission, DB)
    ids = [s for f in files for s in genelab_release.read_score_file(f).index]
    frame = pd.DataFrame([parse_sample(s) for s in ids], index=pd.Index(ids, name="sample_id")).sort_index()
    unknown = frame.index[frame["group"].isna()]
    if len(unknown):
        raise TemporalDataError(f"{files[0]}: sample {unknown[0]!r} has no group token (_FLT_/_GC_/_BSL_/_VIV_)")
    return frame


def tissue_scores(release_dir: Path | str, tissue: str) -> pd.DataFrame:
    """The tissue's Hallmark scores stacked over the seed's mission list (its ``load_pathway_features``)."""
    return stacked_scores(release_dir, tissue, DB, SEED_TISSUE_MISSIONS[tissue], DuplicateRows.SEED_LAST)[0]


def _matrix(scores: pd.DataFrame, ids, columns=None) -> np.ndarray:
    frame = scores.loc[list(ids)]
    return np.nan_to_num((frame if columns is None else frame[columns]).values.astype(float), nan=0.0)


# ---------------------------------------------------------------------------------------------
# the binary evaluation
# ---------------------------------------------------------------------------------------------

def _fit_predict(X_train, y_train, X_test) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    clf = _lr().fit(scaler.fit_transform(X_train), y_train)
    return clf.predict_proba(scaler.transform(X_test))[:, list(clf.classes_).index(1)]


def cross_validated_probabilities(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
    """Out-of-fold P(class 1) averaged over repeats, and the cross-validation named as the seed names it."""
    from sklearn.model_selection import LeaveOneOut, RepeatedStratifiedKFold

    smaller = int(min((y == 0).sum(), (y == 1).sum()))
    if smaller >= N_SPLITS:
        k = min(N_SPLITS, smaller)
        splits, name = RepeatedStratifiedKFold(n_splits=k, n_repeats=N_REPEATS, random_state=42).split(X, y), \
            f"RepeatedStratifiedKFold({k}x{N_REPEATS})"
    else:
        splits, name = LeaveOneOut().split(X, y), "LOO-CV"
    total, count = np.zeros(len(y)), np.zeros(len(y))
    for tr, te in splits:
        total[te] += _fit_predict(X[tr], y[tr], X[te])
        count[te] += 1
    return total / np.maximum(count, 1), name


def auroc_with_uncertainty(y: np.ndarray, p: np.ndarray, *, n_perm: int = N_PERM, permutation: bool = True) -> dict:
    """AUROC, the seed's bootstrap CI (NaN under 100 two-class resamples) and permutation p."""
    boots = metrics.bootstrap_aurocs(y, p, N_BOOTSTRAP)
    lo, hi = (float("nan"),) * 2 if len(boots) < MIN_BOOTSTRAPS else \
        (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
    out = {"auroc": metrics.auroc(y, p), "ci_low": lo, "ci_high": hi}
    if permutation:
        out["perm_p"] = metrics.permutation_p(y, p, n_perm)
    return out


def evaluate_binary(scores: pd.DataFrame, y: pd.Series, *, n_perm: int = N_PERM) -> dict:
    """The seed's binary evaluation of one sample set (``y`` indexed by sample id, 1 = positive class)."""
    y = y.sort_index()
    yv = y.values.astype(int)
    p, cv = cross_validated_probabilities(_matrix(scores, y.index), yv)
    return {**auroc_with_uncertainty(yv, p, n_perm=n_perm), "n_total": len(yv), "n_positive": int(yv.sum()),
            "cv_method": cv, "n_features": int(scores.shape[1])}


def _header(description: str, decision: str, method: str, timestamp: str | None) -> dict:
    """The head every published T summary starts with (integrate_temporal.py's key order)."""
    return {"timestamp": timestamp or datetime.now().isoformat(), "description": description,
            "design_decisions": [decision], "method": method, "source": SOURCE}


# ---------------------------------------------------------------------------------------------
# T1: ISS-T vs LAR
# ---------------------------------------------------------------------------------------------

T1_SUBTASKS = (("T1a", "liver", "RR-6", ("FLT", "GC", "BSL"), "PMID 33376967: ISS-T=RNAlater, LAR=necropsy"),
               ("T1b", "liver", "RR-8", ("FLT", "GC", "BSL"), "PMID 33376967: ISS-T=RNAlater, LAR=necropsy"),
               ("T1c", "thymus", "RR-6", ("FLT", "GC"), "PMID 33376967"))
T1_FIELDS = ("auroc", "ci_low", "ci_high", "perm_p", "n_total", "cv_method")


def timing_labels(samples: pd.DataFrame, condition: str) -> pd.Series:
    sub = samples[(samples["group"] == condition) & samples["timing"].isin(["ISS-T", "LAR"])]
    return (sub["timing"] == "LAR").astype(int)


def t1_condition(scores: pd.DataFrame, samples: pd.DataFrame, condition: str, *, n_perm: int = N_PERM) -> dict:
    y = timing_labels(samples, condition)
    n_lar = int(y.sum())
    if len(y) < 6 or n_lar < 2 or len(y) - n_lar < 2:
        return {"status": "SKIP", "reason": f"n={len(y)} (ISS-T={len(y) - n_lar}, LAR={n_lar}) too small"}
    r = evaluate_binary(scores, y, n_perm=n_perm)
    return {"status": "OK", **r, "n_isst": r["n_total"] - r["n_positive"], "n_lar": r.pop("n_positive")}


def t1_transfer(scores: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, condition: str) -> dict | None:
    """Train on one mission's ISS-T vs LAR animals of ``condition``, test on the other's (seed T1d)."""
    y_tr, y_te = timing_labels(train, condition).sort_index(), timing_labels(test, condition).sort_index()
    if len(y_tr) < 4 or len(y_te) < 4 or y_tr.nunique() < 2 or y_te.nunique() < 2:
        return None
    columns = sorted(scores.columns)
    p = _fit_predict(_matrix(scores, y_tr.index, columns), y_tr.values, _matrix(scores, y_te.index, columns))
    return {**auroc_with_uncertainty(y_te.values, p, permutation=False), "n_train": len(y_tr), "n_test": len(y_te)}


def run_t1(release_dir: Path | str, *, n_perm: int = N_PERM) -> dict:
    """Every T1 result the release allows, with the seed's details (per-condition status, counts)."""
    out = {}
    scores = {t: tissue_scores(release_dir, t) for t in {s[1] for s in T1_SUBTASKS}}
    samples = {(t, m): mission_samples(release_dir, t, m) for _, t, m, _, _ in T1_SUBTASKS}
    for task, tissue, mission, conditions, warning in T1_SUBTASKS:
        out[f"{task}_{mission}_{tissue}"] = {
            "task": task, "tissue": tissue, "mission": mission, "confound_warning": warning,
            "conditions": {f"{c}_{mode}": (t1_condition(scores[tissue], samples[(tissue, mission)], c, n_perm=n_perm)
                                           if mode == "pathway" else dict(GENE_SKIP))
                           for c in conditions for mode in ("gene", "pathway")}}
    transfers = {}
    for condition in ("FLT", "GC"):
        for a, b in (("RR-6", "RR-8"), ("RR-8", "RR-6")):
            r = t1_transfer(scores["liver"], samples[("liver", a)], samples[("liver", b)], condition)
            if r is not None:
                transfers[f"{condition}_pathway_{a}\u2192{b}"] = r
    out["T1d_cross_mission"] = {"task": "T1d", "tissue": "liver", "description": "Cross-mission temporal transfer",
                                "transfers": transfers}
    return out


def t1_document(results: dict, *, timestamp: str | None = None) -> dict:
    """T1_temporal_timing_summary.json (integrate_temporal.build_t1_summary's layout)."""
    subtasks = {}
    for key, entry in results.items():
        if key == "T1d_cross_mission":
            subtasks[key] = {**{k: entry[k] for k in ("task", "tissue", "description")},
                             "transfers": {t: {k: v[k] for k in ("auroc", "ci_low", "ci_high", "n_train", "n_test")}
                                           for t, v in entry["transfers"].items()}}
            continue
        subtasks[key] = {**{k: entry[k] for k in ("task", "tissue", "mission", "confound_warning")},
                         "conditions": {c: ({k: v[k] for k in T1_FIELDS} if v["status"] == "OK" else dict(v))
                                        for c, v in entry["conditions"].items()}}
    return {
        **_header("T1: ISS-T vs LAR sacrifice timing classification", "DD-18",
                  "PCA-LR, RepeatedStratifiedKFold(5x10), gene and pathway features", timestamp),
        "subtasks": subtasks,
        "verdict": "Preservation artifact dominates biological timing effect",
        "evidence": ("GC AUROC >= FLT AUROC in most cases (RR-8: GC=0.973 > FLT=0.930, excess=-0.043). "
                     "BSL near-perfect separation confirms preservation is primary driver."),
        "not_reproduced": {
            "subtasks.*.conditions.*_gene": GENE_REASON,
            "subtasks.T1a_RR-6_liver.interpretation, subtasks.T1b_RR-8_liver.interpretation":
                "FLT_gene - GC_gene AUROC: " + GENE_REASON + "; left out, as the seed leaves it without gene results",
            "subtasks.T1d_cross_mission.transfers.*_gene_*": GENE_REASON + "; left out, as the seed skips them",
            "verdict, evidence": SEED_TEXT},
    }


# ---------------------------------------------------------------------------------------------
# T2: LAR recovery
# ---------------------------------------------------------------------------------------------

T2_MISSIONS = ("RR-6", "RR-8")
T2_GROUPS = tuple(f"{g}_{t}" for g in ("FLT", "GC", "BSL") for t in ("ISS-T", "LAR"))


def group_counts(samples: pd.DataFrame) -> dict:
    """Animals per condition x timing, in the seed's order (groups with no animal left out)."""
    key = samples["group"] + "_" + samples["timing"]
    return {g: int((key == g).sum()) for g in T2_GROUPS if (key == g).any()}


def pathway_recovery(mission_scores: pd.DataFrame, samples: pd.DataFrame) -> dict:
    """Per pathway: delta_flight, delta_return, recovery_fraction (None when |delta_flight| < 0.1)."""
    scores = mission_scores.loc[samples.index]
    key = samples["group"] + "_" + samples["timing"]
    out = {}
    for pw in scores.columns:
        s = scores[pw]
        parts = {g: s[key == g] for g in ("BSL_ISS-T", "FLT_ISS-T", "BSL_LAR", "FLT_LAR")}
        if min(len(v) for v in parts.values()) < 2:
            continue
        delta_flight = parts["FLT_ISS-T"].mean() - parts["BSL_ISS-T"].mean()
        delta_return = parts["FLT_LAR"].mean() - parts["BSL_LAR"].mean()
        if abs(delta_flight) < RECOVERY_MIN_DELTA:
            out[pw] = {"delta_flight": delta_flight, "delta_return": delta_return, "recovery_fraction": None,
                       "note": f"|delta_flight|={abs(delta_flight):.3f} < {RECOVERY_MIN_DELTA}"}
            continue
        ratio = delta_return / delta_flight
        out[pw] = {"delta_flight": delta_flight, "delta_return": delta_return, "recovery_fraction": 1.0 - ratio,
                   "direction_reversed": bool(ratio < 0)}
    return out


def recovery_summary(recovery: dict) -> dict:
    """The seed's summary: mean, median, n_recovering (fraction > 0, overshoot included), n_total."""
    vals = [v["recovery_fraction"] for v in recovery.values() if v["recovery_fraction"] is not None]
    return {"mean": float(np.mean(vals)), "median": float(np.median(vals)),
            "n_recovering": sum(1 for r in vals if r > 0), "n_total": len(vals)}


def recovery_summary_strict(recovery: dict) -> dict:
    """Strict (defect 1): recovering 0 < f <= 1, overshoot f > 1 (crossed baseline), not recovering f <= 0."""
    vals = np.array([v["recovery_fraction"] for v in recovery.values() if v["recovery_fraction"] is not None])
    within = vals[(vals > 0) & (vals <= 1)]
    return {"n_recovering": int(len(within)), "n_overshoot": int((vals > 1).sum()), "n_not_recovering": int((vals <= 0).sum()),
            "n_total": int(len(vals)), "median_recovering": float(np.median(within)) if len(within) else None,
            "dd20_documented_n_recovering": int((1 - np.abs(1 - vals) > 0).sum())}


def run_t2(release_dir: Path | str) -> dict:
    out = {}
    for mission in T2_MISSIONS:
        samples = mission_samples(release_dir, "liver", mission)
        files = genelab_release.pathway_score_files(release_dir, "liver", mission, DB)
        mission_scores = pd.concat([genelab_release.read_score_file(f) for f in files])
        recovery = pathway_recovery(mission_scores, samples)
        out[mission] = {"task": "T2", "tissue": "liver", "mission": mission, "pathway_recovery": recovery,
                        "pathway_recovery_summary": recovery_summary(recovery),
                        "pathway_recovery_strict": recovery_summary_strict(recovery),
                        "groups": group_counts(samples)}
    return out


def t2_document(results: dict, *, timestamp: str | None = None) -> dict:
    return {
        **_header("T2: LAR recovery signature analysis", "DD-20",
                  "PCA distance ratios + direction-aware pathway recovery (DD-20)", timestamp),
        "missions": {m: {"task": r["task"], "tissue": r["tissue"], "mission": m, "pca_recovery_ratio": None,
                         "pca_variance_explained_top3": None, "pathway_recovery": r["pathway_recovery_summary"],
                         "classification_shift": None, "groups": r["groups"]} for m, r in results.items()},
        "verdict": "LAR samples show partial-to-strong recovery toward baseline",
        "evidence": ("RR-6: PCA R=0.842 (partial), 12/26 recovering. RR-8: PCA R=0.652 (stronger recovery), 25/27 "
                     "recovering with overshoot. Descriptive classifier projection: FLT_LAR flight_prob 0.185 (RR-6) / "
                     "0.404 (RR-8), lower than the in-sample FLT_ISS-T reference."),
        "not_reproduced": {
            "missions.*.pca_recovery_ratio, missions.*.pca_variance_explained_top3, missions.*.classification_shift":
                "PCA / classifier on gene expression: " + GENE_REASON,
            "missions.*.groups": "counted from the animals in the mission's GSVA file (the seed counted its gene-aligned "
                                 "animals; equal on the release)",
            "verdict, evidence": SEED_TEXT},
    }


# ---------------------------------------------------------------------------------------------
# T3: age x spaceflight (RR-8 liver)
# ---------------------------------------------------------------------------------------------

T3_KEYS = [("T3a", None), ("T3b", "FLT"), ("T3b", "GC"), ("T3b", "VIV"), ("T3d", "OLD"), ("T3d", "YNG")]


def _t3_description(kind: str, which: str | None) -> str:
    return {"T3a": "Overall OLD vs YNG classification", "T3b": f"Age classification within {which}",
            "T3d": f"Spaceflight detection in {which} mice"}[kind]


def t3_anova(scores: pd.DataFrame, samples: pd.DataFrame) -> dict:
    """Two-way ANOVA per pathway on FLT + GC ISS-T animals (all timings when fewer than 20), BH FDR (DD-19)."""
    import statsmodels.api as sm
    from statsmodels.formula.api import ols
    from statsmodels.stats.multitest import multipletests

    aged = samples[samples["age"].isin(["OLD", "YNG"]) & samples["group"].isin(["FLT", "GC"])]
    sub = aged[aged["timing"] == "ISS-T"]
    if len(sub) < 20:
        sub = aged
    x = scores.loc[sub.index]
    rows = []
    for pw in x.columns:
        frame = pd.DataFrame({"score": x[pw].values, "flight": (sub["group"] == "FLT").astype(int).astype(str).values,
                              "age": sub["age"].values})
        table = sm.stats.anova_lm(ols("score ~ C(flight) + C(age) + C(flight):C(age)", data=frame).fit(), typ=2)
        rows.append({"pathway": pw, "p_flight": table.loc["C(flight)", "PR(>F)"], "p_age": table.loc["C(age)", "PR(>F)"],
                     "p_interaction": table.loc["C(flight):C(age)", "PR(>F)"]})
    reject, fdr, _, _ = multipletests([r["p_interaction"] for r in rows], method="fdr_bh")
    for r, q, rej in zip(rows, fdr, reject):
        r.update(fdr_interaction=float(q), significant_interaction=bool(rej))
    return {"n_pathways": len(rows), "n_significant_interaction": int(reject.sum()), "n_samples": len(sub),
            "timing_filter": "ISS-T" if (sub["timing"] == "ISS-T").all() else "all", "pathways": rows}


def run_t3(release_dir: Path | str, *, n_perm: int = N_PERM) -> dict:
    scores = tissue_scores(release_dir, "liver")
    samples = mission_samples(release_dir, "liver", "RR-8")
    aged = samples[samples["age"].isin(["OLD", "YNG"])]
    subtasks = {}
    for kind, which in T3_KEYS:
        if kind == "T3d":
            sub = aged[(aged["age"] == which) & aged["group"].isin(["FLT", "GC"])]
            y = (sub["group"] == "FLT").astype(int)
        else:
            sub = aged if which is None else aged[aged["group"] == which]
            y = (sub["age"] == "OLD").astype(int)
        name = f"{kind}_pathway" if which is None else f"{kind}_{which}_pathway"
        if len(sub) < 6:
            subtasks[name] = {"status": "SKIP", "reason": f"n={len(sub)}"}
            continue
        r = evaluate_binary(scores, y, n_perm=n_perm)
        counts = ({"n_flight": r["n_positive"], "n_gc": r["n_total"] - r["n_positive"], "age_group": which}
                  if kind == "T3d" else {"n_old": r["n_positive"], "n_yng": r["n_total"] - r["n_positive"]})
        subtasks[name] = {"description": _t3_description(kind, which), **{k: r[k] for k in ("auroc", "ci_low", "ci_high", "perm_p")},
                          **counts, **({"condition": which} if kind == "T3b" else {}), "cv_method": r["cv_method"]}
    subtasks["T3c_anova"] = t3_anova(scores, samples)
    return {"task": "T3", "tissue": "liver", "mission": "RR-8", "subtasks": subtasks}


def t3_document(results: dict, *, timestamp: str | None = None) -> dict:
    subs = results["subtasks"]
    out = {}
    for kind, which in T3_KEYS:
        stem = kind if which is None else f"{kind}_{which}"
        out[f"{stem}_gene"] = {"description": _t3_description(kind, which), **GENE_SKIP}
        entry = subs[f"{stem}_pathway"]
        out[f"{stem}_pathway"] = {k: v for k, v in entry.items() if k != "cv_method"}
    anova = subs["T3c_anova"]
    out["T3c_anova"] = {**{k: anova[k] for k in ("n_pathways", "n_significant_interaction", "n_samples", "timing_filter")},
                        "min_fdr_interaction": min(p["fdr_interaction"] for p in anova["pathways"])}
    return {
        **_header("T3: Age x Spaceflight interaction analysis (RR-8 liver)", "DD-19",
                  "PCA-LR RSKF for classification, two-way ANOVA for pathway interaction", timestamp),
        "tissue": results["tissue"],
        "mission": results["mission"],
        "results": out,
        "aging_hypothesis": None,
        "verdict": "Spaceflight amplifies aging: SUPPORTED",
        "evidence": None,
        "not_reproduced": {
            "results.*_gene": GENE_REASON,
            "aging_hypothesis, evidence": "T3d_OLD_gene - T3d_YNG_gene AUROC: " + GENE_REASON,
            "verdict": SEED_TEXT},
    }


# ---------------------------------------------------------------------------------------------
# all three
# ---------------------------------------------------------------------------------------------

def temporal_analyses(release_dir: Path | str, *, n_perm: int = N_PERM, timestamp: str | None = None) -> dict:
    """``{"T1"|"T2"|"T3": {"document": published layout, "details": the seed's full results}, "strict_variant": ...}``."""
    t1, t2, t3 = run_t1(release_dir, n_perm=n_perm), run_t2(release_dir), run_t3(release_dir, n_perm=n_perm)
    docs = {"T1": t1_document(t1, timestamp=timestamp), "T2": t2_document(t2, timestamp=timestamp),
            "T3": t3_document(t3, timestamp=timestamp)}
    strict = {"T2_pathway_recovery": {m: r["pathway_recovery_strict"] for m, r in t2.items()},
              "verdicts": {k: {"verdict": None, "evidence": None, "why": SEED_TEXT} for k in docs}}
    return {"documents": docs, "details": {"T1": t1, "T2": t2, "T3": t3}, "strict_variant": strict}
