"""The leakage audit (SPEC §11, issue 11): for every task of categories A-D, the seed protocol's
number beside the strict protocol's, their difference and the seed defect that explains it.

Rows come from the category results (both protocols computed on the release) plus the defects
that the release cannot measure (they need gene-level counts), stated with that reason rather
than left out.
"""

from __future__ import annotations

import math

from genebench_assets.science.categories.published_layout import DEFECTS

# Category A's whole-data steps of the seed (SPEC §11): strict fits each on training samples only.
# Their effect needs raw counts (demo, live or mirror sources), not the release's GSVA scores.
CATEGORY_A_WHOLE_DATA_STEPS = {
    "A1-A6": ("low-expression filter, shared size factors, per-mission GSVA kernels (a within-mission batch "
              "correction) and the variance filter fit on all samples of a tissue before the LOMO split"),
}
UNMEASURED = [
    ("C1-C4 method B", "auroc", DEFECTS["c_method_b_leakage"]),
    ("C1-C4 method A", "auroc", "gene-level matrices are not in the release (no seed defect: variance filter fit on the training tissue)"),
    ("NC1", "null AUROC distribution", "the seed only aggregates p-values of other files, some stale (A4's from 10 permutations), "
                                       "and never computes a null distribution (defect 4)"),
    ("NC2", "mean AUROC", "the housekeeping control falls outside [0.35, 0.65] for thymus (0.765) and eye (0.803) in the "
                          "seed run (defect 5); needs gene-level matrices"),
]


def _difference(seed, strict):
    if isinstance(seed, (int, float)) and isinstance(strict, (int, float)) and not (math.isnan(seed) or math.isnan(strict)):
        return strict - seed
    return None


def audit_rows(c: dict[str, dict], d: dict[str, dict], j5: dict[str, dict], nes: dict | None = None) -> list[dict]:
    """One row per task and metric: task, metric, seed, strict, difference, defect (None when the
    protocols agree for a reason other than a defect, e.g. no duplicated sample involved)."""
    rows = []
    for task, doc in c.items():
        seed, strict = doc["seed"]["auroc"], doc["strict"]["auroc"]
        thymus = "thymus" in (doc["train_tissue"], doc["test_tissue"])
        rows.append(dict(task=f"{task} method C", metric="auroc", seed=seed, strict=strict, difference=_difference(seed, strict),
                         defect=DEFECTS["thymus_mhu1_rows"] if thymus else None))
    for task, doc in d.items():
        if doc.get("seed") is None:
            rows.append(dict(task=task, metric="macro_f1", seed=None, strict=None, difference=None,
                             defect=f"not run: class counts {doc.get('class_counts')}"))
            continue
        seed, strict = doc["seed"]["macro_f1"], doc["strict"]["macro_f1"]
        defect = DEFECTS["thymus_mhu1_rows"] if any(v == "MHU-2" for s, v in (doc["seed"]["_details"].get("row_source") or {}).items() if "MHU1" in s) else None
        if task == "D4":
            defect = (defect + "; " if defect else "") + DEFECTS["a4_strain_metadata"]
        rows.append(dict(task=task, metric="macro_f1", seed=seed, strict=strict, difference=_difference(seed, strict), defect=defect))
    for tissue, doc in j5.items():
        seed, strict = doc["seed"]["pathway_mean_auroc"], doc["strict"]["pathway_mean_auroc"]
        rows.append(dict(task=f"J5 {tissue} (pathway)", metric="mean_auroc", seed=seed, strict=strict,
                         difference=_difference(seed, strict), defect=DEFECTS["thymus_mhu1_rows"] if tissue == "thymus" else None))
    if nes is not None:
        rc = nes["rank_correlation"]
        rows.append(dict(task="NES conservation vs B transfer", metric="spearman_rho", seed=0.9, strict=rc["rho"],
                         difference=rc["rho"] - 0.9,
                         defect=DEFECTS["nes_transfer_hardcoded"] + f"; all {rc['n']} tissues: p = {rc['p']:.3f}"))
    for task, why in CATEGORY_A_WHOLE_DATA_STEPS.items():
        rows.append(dict(task=task, metric="auroc", seed=None, strict=None, difference=None,
                         defect=f"whole-data steps in seed: {why}; measured on the demo / live sources (needs raw counts)"))
    for task, metric, why in UNMEASURED:
        rows.append(dict(task=task, metric=metric, seed=None, strict=None, difference=None, defect=why))
    return rows


def render_markdown(rows: list[dict]) -> str:
    def fmt(v):
        return "n/a" if v is None else f"{v:+.3f}" if isinstance(v, float) and v < 0 else f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| task | metric | seed | strict | strict - seed | defect |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['metric']} | {fmt(r['seed'])} | {fmt(r['strict'])} | {fmt(r['difference'])} | {r['defect'] or '-'} |"
              for r in rows]
    return "\n".join(lines)
