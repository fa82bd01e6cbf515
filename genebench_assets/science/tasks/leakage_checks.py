"""Leakage checks on Category A folds (issue 4). Pure functions, each returning a `CheckOutcome`
whose description and metadata say what was compared; the Dagster layer makes them blocking
asset checks (`defs/tasks/checks.py`).

1 `no_shared_sample_ids`            4 `no_label_derived_features`
2 `no_test_mission_in_train`        5 `no_expression_duplicates`
3 `fitted_steps_saw_training_only`  6 `class_balance_ok`
and `text_llm_examples_from_train_only` for the text-LLM track's few-shot examples.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.check_outcome import CheckOutcome
from genebench_assets.science.tasks.folds import (
    MIN_TEST_SAMPLES,
    STEP_LOW_EXPRESSION,
    STEP_PATHWAY_SCORING,
    Fold,
    label_distribution,
)

__all__ = [
    "CheckOutcome",
    "SEED_PROTOCOL_EXCEPTIONS",
    "no_shared_sample_ids",
    "no_test_mission_in_train",
    "fitted_steps_saw_training_only",
    "no_label_derived_features",
    "no_expression_duplicates",
    "class_balance_ok",
    "text_llm_examples_from_train_only",
]

# Steps that, in the seed (published) protocol, legitimately saw test samples. Check 3 reports them
# in the seed protocol without failing; the strict protocol fits them on training samples only.
SEED_PROTOCOL_EXCEPTIONS = {
    STEP_LOW_EXPRESSION: "the published pipeline filtered low-expression genes over all samples of the tissue",
    STEP_PATHWAY_SCORING: "the published pipeline ran GSVA per mission, the test mission included",
}


def _ids(values: Iterable) -> list[str]:
    return [str(v) for v in values]


# 1 -------------------------------------------------------------------------------------------
def no_shared_sample_ids(fold: Fold) -> CheckOutcome:
    """No sample id is both in train and in test (nor twice in either)."""
    train, test = _ids(fold.train_ids), _ids(fold.test_ids)
    shared = sorted(set(train) & set(test))
    failures = [f"{s} is in train and test" for s in shared]
    for part, ids in (("train", train), ("test", test)):
        failures += [f"{s} appears {n} times in {part}" for s, n in Counter(ids).items() if n > 1]
    return CheckOutcome.from_failures(
        "train sample ids vs test sample ids",
        failures,
        {"n_train": len(train), "n_test": len(test), "n_shared": len(shared)},
    )


# 2 -------------------------------------------------------------------------------------------
def no_test_mission_in_train(fold: Fold, metadata: pd.DataFrame) -> CheckOutcome:
    """No training sample belongs to the held-out mission, judged by the metadata's `mission` column
    (not by the fold's own record); a training id the metadata does not know fails too."""
    meta = metadata.set_index("sample_id") if "sample_id" in metadata.columns else metadata
    missions = pd.Series(meta["mission"].astype(str).to_numpy(), index=meta.index.astype(str))
    missions = missions[~missions.index.duplicated(keep="first")]
    train = _ids(fold.train_ids)
    of_train = missions.reindex(train)
    failures = [f"{s} (train) is from the held-out mission {fold.test_mission}"
                for s, m in of_train.items() if m == fold.test_mission]
    unknown = [s for s, m in of_train.items() if pd.isna(m)]
    failures += [f"{s} (train) is not in the sample metadata" for s in unknown]
    return CheckOutcome.from_failures(
        f"missions of the {len(train)} training samples vs the held-out mission {fold.test_mission}",
        failures,
        {
            "test_mission": fold.test_mission,
            "train_missions_seen": sorted(set(of_train.dropna())),
            "n_train": len(train),
            "n_unknown_ids": len(unknown),
        },
    )


# 3 -------------------------------------------------------------------------------------------
def fitted_steps_saw_training_only(
    fold: Fold,
    *,
    protocol: str | None = None,
    seed_exceptions: Mapping[str, str] = SEED_PROTOCOL_EXCEPTIONS,
) -> CheckOutcome:
    """Every fitted step's sample ids are a subset of the training ids.

    `protocol` (default: the fold's own) decides how a step listed in `seed_exceptions` that saw
    non-training samples is judged: "strict" -> failure; "seed" -> reported in the metadata
    (`seed_protocol_exceptions`) as the documented exception of the published protocol, not a
    failure. Any other step seeing a non-training sample fails in both protocols. A fold that
    recorded no fitted step fails (nothing to verify)."""
    protocol = protocol or fold.protocol
    if protocol not in ("seed", "strict"):
        raise ValueError(f"protocol must be 'seed' or 'strict', got {protocol!r}")
    train, test = set(_ids(fold.train_ids)), set(_ids(fold.test_ids))
    failures, exceptions, per_step = [], {}, {}
    for step, ids in fold.fitted_steps.items():
        extra = [s for s in _ids(ids) if s not in train]
        n_test_seen = sum(1 for s in extra if s in test)
        per_step[step] = {"n_seen": len(ids), "n_not_training": len(extra), "n_test_seen": n_test_seen}
        if not extra:
            continue
        msg = (f"{step} saw {len(extra)} non-training samples ({n_test_seen} of them test samples), "
               f"e.g. {extra[:3]}")
        if protocol == "seed" and step in seed_exceptions:
            exceptions[step] = f"{msg}: documented seed-protocol exception ({seed_exceptions[step]})"
        else:
            failures.append(msg)
    if not fold.fitted_steps:
        failures.append("the fold records no fitted step")
    description = f"sample ids each fitted step saw vs the {len(train)} training ids ({protocol} protocol)"
    if exceptions:
        description += "; seed-protocol exceptions reported, not blocking: " + ", ".join(sorted(exceptions))
    return CheckOutcome.from_failures(
        description,
        failures,
        {"protocol": protocol, "steps": per_step, "seed_protocol_exceptions": exceptions},
    )


# 4 -------------------------------------------------------------------------------------------
# Provenance tags that mean "computed from the labels" (DE results, enrichment of DE rankings).
LABEL_DERIVED_PROVENANCE = (
    "label", "differential_expression", "dge", "deseq", "deseq2", "log2fc", "lfc", "fold_change",
    "de_statistic", "wald", "fgsea", "prerank", "nes", "limma", "edger", "target",
)
# Distinctive substrings of a feature name with separators removed ("log2_fold_change" -> "log2foldchange").
_LABEL_NAME_SUBSTRINGS = ("log2fc", "logfc", "foldchange", "log2ratio", "pvalue", "padj", "qvalue", "waldstat")
# Whole tokens (split on non-alphanumerics), so gene symbols such as Stat1 or Lfng do not match.
# Left out of names on purpose, caught by provenance instead: "nes" (Nes, nestin, is a mouse gene)
# and "target" (pathways such as HALLMARK_E2F_TARGETS). "stat" after "jak" is the JAK-STAT pathway.
_LABEL_NAME_TOKENS = {"lfc", "lfcse", "stat", "pval", "fdr", "label", "labels", "ytrue", "flight"}


def _label_like_name(name: str) -> str | None:
    lower = str(name).lower()
    compact = re.sub(r"[^a-z0-9]", "", lower)
    for sub in _LABEL_NAME_SUBSTRINGS:
        if sub in compact:
            return sub
    tokens = [t for t in re.split(r"[^a-z0-9]+", lower) if t]
    for i, tok in enumerate(tokens):
        if tok in _LABEL_NAME_TOKENS and not (tok == "stat" and i > 0 and tokens[i - 1] == "jak"):
            return tok
    return None


def _label_like_tag(tag: str) -> str | None:
    t = re.sub(r"[^a-z0-9]+", "_", str(tag).lower()).strip("_")
    parts = set(t.split("_"))
    for bad in LABEL_DERIVED_PROVENANCE:
        if bad == t or bad in parts or (len(bad) > 4 and bad in t):
            return bad
    return None


def no_label_derived_features(
    feature_names: Sequence[str], feature_provenance: Mapping[str, str | Sequence[str]] | None = None
) -> CheckOutcome:
    """No Category A input is derived from the labels (log fold change, DE statistic, p-values,
    enrichment of a DE ranking). Judged twice: by provenance tags (feature -> tag or tags; a feature
    without a tag fails when a provenance mapping is given) and by names (`log2FC`, `stat`, `padj`,
    `pvalue`, `lfc`, ...)."""
    failures, by_name, by_tag, untagged = [], 0, 0, 0
    for name in feature_names:
        hit = _label_like_name(name)
        if hit:
            by_name += 1
            failures.append(f"{name}: name looks label-derived ({hit!r})")
        if feature_provenance is None:
            continue
        tags = feature_provenance.get(name)
        if tags is None:
            untagged += 1
            failures.append(f"{name}: no provenance recorded")
            continue
        for tag in [tags] if isinstance(tags, str) else list(tags):
            bad = _label_like_tag(tag)
            if bad:
                by_tag += 1
                failures.append(f"{name}: provenance {tag!r} is label-derived ({bad!r})")
    return CheckOutcome.from_failures(
        "feature names and provenance tags vs label-derived patterns (log2FC, DE statistics, p-values, NES)",
        failures,
        {
            "n_features": len(feature_names),
            "provenance_checked": feature_provenance is not None,
            "n_flagged_by_name": by_name,
            "n_flagged_by_provenance": by_tag,
            "n_without_provenance": untagged,
        },
    )


# 5 -------------------------------------------------------------------------------------------
def no_expression_duplicates(X_train: pd.DataFrame, X_test: pd.DataFrame, threshold: float = 0.9999) -> CheckOutcome:
    """No test sample duplicates a training sample: Pearson r (over the shared feature columns)
    of every test row vs every training row, as one matrix product; r >= threshold fails.
    Columns with NaN in any row are left out; a constant row has no r and is compared exactly."""
    cols = X_train.columns.intersection(X_test.columns, sort=False)
    A = X_train[cols].to_numpy(dtype=float)
    B = X_test[cols].to_numpy(dtype=float)
    finite = np.isfinite(A).all(axis=0) & np.isfinite(B).all(axis=0)
    A, B = A[:, finite], B[:, finite]
    meta = {"n_train": A.shape[0], "n_test": B.shape[0], "n_features_compared": int(finite.sum()),
            "threshold": threshold}
    if A.size == 0 or B.size == 0 or A.shape[1] < 2:
        return CheckOutcome(False, "Pearson r of every test sample vs every training sample", meta,
                            ["fewer than 2 comparable features or no samples: cannot compare"])
    Ac = A - A.mean(axis=1, keepdims=True)
    Bc = B - B.mean(axis=1, keepdims=True)
    na, nb = np.linalg.norm(Ac, axis=1), np.linalg.norm(Bc, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Bc @ Ac.T) / np.outer(nb, na)  # test x train
    # Constant rows (norm 0) have no correlation; an exact equal row is still a duplicate.
    const_b, const_a = np.flatnonzero(nb == 0), np.flatnonzero(na == 0)
    for i in const_b:
        for j in const_a:
            if np.array_equal(B[i], A[j]):
                r[i, j] = 1.0
    hits = np.argwhere(np.nan_to_num(r, nan=-np.inf) >= threshold)
    failures = [f"test {X_test.index[i]} vs train {X_train.index[j]}: r = {r[i, j]:.6f}" for i, j in hits]
    finite_r = r[np.isfinite(r)]
    if finite_r.size:
        i, j = np.unravel_index(np.nanargmax(np.where(np.isfinite(r), r, -np.inf)), r.shape)
        meta.update({"max_r": float(r[i, j]), "max_r_pair": [str(X_test.index[i]), str(X_train.index[j])]})
    return CheckOutcome.from_failures(
        f"Pearson r of every test sample vs every training sample over {int(finite.sum())} features "
        f"(>= {threshold} fails)",
        failures,
        meta,
    )


# 6 -------------------------------------------------------------------------------------------
def class_balance_ok(fold: Fold, min_test: int = MIN_TEST_SAMPLES, min_per_class: int = 1) -> CheckOutcome:
    """SPEC §5 minimums: >= `min_test` binary test samples, and each class (Flight, Ground) at least
    `min_per_class` times in train and in test. Counted from the fold's labels."""
    train, test = label_distribution(fold.y_train), label_distribution(fold.y_test)
    failures = []
    if len(fold.y_test) < min_test:
        failures.append(f"test has {len(fold.y_test)} samples (< {min_test})")
    for part, dist in (("train", train), ("test", test)):
        failures += [f"{part} has {n} {cls} samples (< {min_per_class})"
                     for cls, n in dist.items() if n < min_per_class]
    return CheckOutcome.from_failures(
        f"label counts in train and test (test >= {min_test} samples, each class >= {min_per_class})",
        failures,
        {"train_label_distribution": train, "test_label_distribution": test, "min_test": min_test},
    )


# text-LLM track --------------------------------------------------------------------------------
def text_llm_examples_from_train_only(
    example_ids: Sequence[str], fold: Fold, metadata: pd.DataFrame | None = None
) -> CheckOutcome:
    """Few-shot examples of the text-LLM track are training samples of the fold only: each id is a
    training id, none a test id, and (when `metadata` is given) none from the held-out mission."""
    train, test = set(_ids(fold.train_ids)), set(_ids(fold.test_ids))
    failures = []
    for e in _ids(example_ids):
        if e in test:
            failures.append(f"{e} is a test sample")
        elif e not in train:
            failures.append(f"{e} is not a training sample of {fold.fold_id}")
    if metadata is not None:
        meta = metadata.set_index("sample_id") if "sample_id" in metadata.columns else metadata
        missions = pd.Series(meta["mission"].astype(str).to_numpy(), index=meta.index.astype(str))
        missions = missions[~missions.index.duplicated(keep="first")]
        failures += [f"{e} is from the held-out mission {fold.test_mission}"
                     for e in _ids(example_ids) if missions.get(e) == fold.test_mission]
    return CheckOutcome.from_failures(
        f"{len(example_ids)} few-shot example ids vs the fold's training ids",
        failures,
        {"n_examples": len(example_ids), "n_train": len(train), "fold_id": fold.fold_id},
    )
