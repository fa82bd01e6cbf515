"""Per-study sample QC and mission eligibility (SPEC §4.2).

Rules, applied to every sample of one study:
- low library: total counts < 1,000,000;
- low genes: fewer than 5,000 genes with count > 0;
- PCA outlier: on the log2 expression standardized per gene, the first 2 principal components; a sample
  whose Euclidean distance to the centroid exceeds mean + 4 SD (ddof = 1) of all samples' distances.
  Small studies: with n samples the largest possible z-score of one distance is (n - 1) / sqrt(n), which
  first exceeds 4 at n = 18, so the rule can never fire on 3 vs 3 or 6 vs 6 studies anyway. We make that
  explicit and skip the rule below `PCA_MIN_SAMPLES` (= 10): no sample of a smaller study is flagged as
  a PCA outlier (and we do not invent a looser rule: the published numbers depend on these samples);
- near-duplicate: Pearson r >= 0.9999 between two samples of the same group on the log2 expression;
  the later sample of the pair (in column order) is flagged and its reason names the earlier one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_LIBRARY_SIZE = 1_000_000
MIN_DETECTED_GENES = 5_000
PCA_N_COMPONENTS = 2
PCA_SD_MULTIPLIER = 4.0
PCA_MIN_SAMPLES = 10
NEAR_DUPLICATE_R = 0.9999

QC_COLUMNS = [
    "library_size",
    "n_detected_genes",
    "qc_low_library",
    "qc_low_genes",
    "qc_pca_outlier",
    "qc_near_duplicate",
    "qc_reason",
]
_QC_BOOL_COLUMNS = ["qc_low_library", "qc_low_genes", "qc_pca_outlier", "qc_near_duplicate"]
BINARY_GROUPS = {"Flight": "Flight", "GC": "Ground", "VC": "Ground"}


def _row_standardize(x: np.ndarray) -> np.ndarray:
    """Each row centred and scaled to unit norm (so a dot product is a Pearson r); constant rows -> NaN."""
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, x / norm, np.nan)


def pca_outlier_distances(log2_expr: pd.DataFrame) -> tuple[pd.Series, float]:
    """(distance of each sample to the centroid in the first 2 PCs of the gene-standardized log2
    expression, threshold mean + 4 SD). Genes with missing values or zero variance are dropped."""
    x = log2_expr.dropna(axis=0, how="any").to_numpy(dtype="float64").T  # samples x genes
    sd = x.std(axis=0, ddof=1)
    x = x[:, sd > 0]
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    # PCA by SVD of the centred matrix; scores = U * S. The centroid of the scores is the origin.
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    k = min(PCA_N_COMPONENTS, len(s))
    scores = u[:, :k] * s[:k]
    dist = np.sqrt((scores**2).sum(axis=1))
    threshold = float(dist.mean() + PCA_SD_MULTIPLIER * dist.std(ddof=1))
    return pd.Series(dist, index=log2_expr.columns, name="pca_distance"), threshold


def near_duplicates(log2_expr: pd.DataFrame, groups: pd.Series | None = None,
                    threshold: float = NEAR_DUPLICATE_R) -> dict[str, tuple[str, float]]:
    """{later sample: (earlier sample it duplicates, r)} for pairs with Pearson r >= threshold within a
    group (all samples form one group when `groups` is None). Order = column order of `log2_expr`."""
    expr = log2_expr.dropna(axis=0, how="any")
    samples = list(expr.columns)
    z = _row_standardize(expr.to_numpy(dtype="float64").T)
    r = z @ z.T  # samples x samples Pearson r
    group = (groups.reindex(samples).astype(object).fillna("<no group>").to_numpy()
             if groups is not None else np.zeros(len(samples)))
    found: dict[str, tuple[str, float]] = {}
    for j in range(1, len(samples)):
        earlier = np.flatnonzero((group[:j] == group[j]) & (r[:j, j] >= threshold))
        if len(earlier):
            i = earlier[np.argmax(r[earlier, j])]  # the closest earlier sample
            found[samples[j]] = (samples[i], float(r[i, j]))
    return found


def qc_flags(counts: pd.DataFrame, log2_expr: pd.DataFrame, metadata: pd.DataFrame) -> pd.DataFrame:
    """QC flags of one study's samples (index = the columns of `counts`), with columns `QC_COLUMNS`.

    `log2_expr` may cover a subset of the samples (e.g. without a sample that could not be normalized):
    the PCA and near-duplicate rules then run on the samples it holds. `metadata['group']` defines the
    groups of the near-duplicate rule."""
    samples = list(counts.columns)
    values = counts.to_numpy(dtype="float64")
    flags = pd.DataFrame(index=pd.Index(samples, name=counts.columns.name or "sample_id"))
    flags["library_size"] = np.nansum(values, axis=0).round().astype("int64")
    flags["n_detected_genes"] = (np.nan_to_num(values) > 0).sum(axis=0).astype("int64")
    flags["qc_low_library"] = flags["library_size"] < MIN_LIBRARY_SIZE
    flags["qc_low_genes"] = flags["n_detected_genes"] < MIN_DETECTED_GENES
    flags["qc_pca_outlier"] = False
    flags["qc_near_duplicate"] = False
    reasons: dict[str, list[str]] = {s: [] for s in samples}
    for s in flags.index[flags["qc_low_library"]]:
        reasons[s].append(f"low library size ({flags.at[s, 'library_size']:,} < {MIN_LIBRARY_SIZE:,})")
    for s in flags.index[flags["qc_low_genes"]]:
        reasons[s].append(f"few detected genes ({flags.at[s, 'n_detected_genes']:,} < {MIN_DETECTED_GENES:,})")

    expr = log2_expr[[s for s in samples if s in log2_expr.columns]]
    if expr.shape[1] >= PCA_MIN_SAMPLES:
        dist, threshold = pca_outlier_distances(expr)
        for s in dist.index[dist > threshold]:
            flags.at[s, "qc_pca_outlier"] = True
            reasons[s].append(f"PCA outlier (distance {dist[s]:.2f} > mean + 4 SD = {threshold:.2f})")
    if expr.shape[1] >= 2:
        groups = metadata["group"] if "group" in metadata.columns else None
        for later, (earlier, r) in near_duplicates(expr, groups).items():
            flags.at[later, "qc_near_duplicate"] = True
            reasons[later].append(f"near-duplicate of {earlier} (Pearson r = {r:.6f} >= {NEAR_DUPLICATE_R})")
    flags["qc_reason"] = ["; ".join(reasons[s]) for s in samples]
    return flags


def apply_qc(metadata: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Metadata with the QC columns joined in and `excluded` / `exclusion_reason` updated: a sample that
    fails QC is excluded; a reason given earlier (e.g. a catalog rule) is kept, the QC reason appended."""
    out = metadata.copy()
    flags = flags.reindex(out.index)
    for col in QC_COLUMNS:
        out[col] = flags[col]
    out["library_size"] = out["library_size"].astype("Int64")
    out["n_detected_genes"] = out["n_detected_genes"].astype("Int64")
    for col in _QC_BOOL_COLUMNS:
        out[col] = out[col].fillna(False).astype(bool)
    out["qc_reason"] = out["qc_reason"].fillna("").astype(str)

    before = out["excluded"].fillna(False).astype(bool) if "excluded" in out else pd.Series(False, index=out.index)
    earlier = (out["exclusion_reason"].fillna("").astype(str) if "exclusion_reason" in out
               else pd.Series("", index=out.index))
    qc_failed = out["qc_reason"].str.len() > 0

    def merged(prev: str, qc: str) -> str:
        if not qc or qc in prev:  # idempotent: applying QC twice does not repeat the reason
            return prev
        return f"{prev}; QC: {qc}" if prev else f"QC: {qc}"

    out["excluded"] = before | qc_failed
    out["exclusion_reason"] = [merged(p, q) for p, q in zip(earlier, out["qc_reason"])]
    return out


def mission_eligibility(metadata: pd.DataFrame, min_per_class: int = 3) -> dict:
    """Eligible with >= 3 Flight and (>= 3 GC or >= 3 VC) among non-excluded samples (SPEC §4.2)."""
    kept = metadata
    if "excluded" in metadata:
        kept = metadata[~metadata["excluded"].fillna(False).astype(bool)]
    counts = kept["group"].value_counts()
    n_flight, n_gc, n_vc = (int(counts.get(g, 0)) for g in ("Flight", "GC", "VC"))
    eligible = n_flight >= min_per_class and (n_gc >= min_per_class or n_vc >= min_per_class)
    reason = "" if eligible else (
        f"needs >= {min_per_class} Flight and >= {min_per_class} GC or VC after exclusions; "
        f"has {n_flight} Flight, {n_gc} GC, {n_vc} VC"
    )
    return {
        "eligible": bool(eligible),
        "n_flight": n_flight,
        "n_gc": n_gc,
        "n_vc": n_vc,
        "n_ground": n_gc + n_vc,
        "n_kept": int(len(kept)),
        "n_excluded": int(len(metadata) - len(kept)),
        "reason": reason,
    }
