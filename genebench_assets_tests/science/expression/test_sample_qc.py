"""Sample QC of SPEC §4.2 and mission eligibility, on small synthetic studies with planted faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.expression.normalization import log2_normalized
from genebench_assets.science.expression.sample_qc import (
    PCA_MIN_SAMPLES,
    QC_COLUMNS,
    apply_qc,
    mission_eligibility,
    pca_outlier_distances,
    qc_flags,
)


def simulate_study(groups: list[str], n_genes: int = 6000, depth: float = 5e6, seed: int = 0):
    """(counts genes x samples int64, metadata) with negative-binomial counts around shared gene means."""
    rng = np.random.default_rng(seed)
    share = rng.lognormal(0, 2, n_genes)
    share /= share.sum()
    mu = share[:, None] * depth * rng.uniform(0.8, 1.25, len(groups))[None, :]
    values = rng.negative_binomial(10, 10 / (10 + mu)).astype("int64")
    values[values == 0] = 1  # every gene detected, so only planted faults trip the gene rule
    ids = [f"S{j:02d}_{g}" for j, g in enumerate(groups)]
    counts = pd.DataFrame(values, index=pd.Index([f"ENSMUSG{i:011d}" for i in range(n_genes)], name="gene_id"),
                          columns=ids)
    meta = pd.DataFrame({"osd": "OSD-1", "group": groups, "excluded": False, "exclusion_reason": ""},
                        index=pd.Index(ids, name="sample_id"))
    return counts, meta


def run_log2(counts):
    return log2_normalized(counts, study="OSD-1")[0]


def run_qc(counts, meta):
    return qc_flags(counts, run_log2(counts), meta)


def test_clean_study_has_no_flags():
    counts, meta = simulate_study(["Flight"] * 12 + ["GC"] * 12)
    flags = run_qc(counts, meta)
    assert list(flags.columns) == QC_COLUMNS
    assert list(flags.index) == list(counts.columns)
    assert not flags[["qc_low_library", "qc_low_genes", "qc_pca_outlier", "qc_near_duplicate"]].any().any()
    assert (flags["qc_reason"] == "").all()
    assert (flags["library_size"] == counts.sum()).all()
    assert (flags["n_detected_genes"] == 6000).all()


def test_low_library_size():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    counts["S01_Flight"] = counts["S01_Flight"] // 10  # ~500k reads
    assert counts["S01_Flight"].sum() < 1_000_000
    flags = run_qc(counts, meta)
    assert flags["qc_low_library"].tolist() == [False, True, False, False, False, False]
    assert "low library size" in flags.at["S01_Flight", "qc_reason"]
    assert "< 1,000,000" in flags.at["S01_Flight", "qc_reason"]


def test_library_size_threshold_is_inclusive():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    counts.iloc[:, 0] = 0
    counts.iloc[:5000, 0] = 1
    counts.iloc[0, 0] = 1_000_000 - 4999  # exactly 1,000,000 reads over exactly 5,000 genes
    flags = qc_flags(counts, run_log2(counts), meta)
    assert flags.iloc[0]["library_size"] == 1_000_000 and flags.iloc[0]["n_detected_genes"] == 5000
    assert not flags.iloc[0]["qc_low_library"] and not flags.iloc[0]["qc_low_genes"]


def test_few_detected_genes():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    counts.iloc[4000:, 3] = 0  # 4,000 detected genes
    flags = run_qc(counts, meta)
    assert flags["qc_low_genes"].tolist() == [False, False, False, True, False, False]
    assert "few detected genes (4,000 < 5,000)" in flags.at["S03_GC", "qc_reason"]


def plant_outlier(counts: pd.DataFrame, sample: str, seed: int = 1) -> None:
    """Scramble most of one sample's expression profile (as for a wrong tissue or a failed library)."""
    rng = np.random.default_rng(seed)
    genes = rng.choice(counts.shape[0], size=3000, replace=False)
    values = counts[sample].to_numpy().copy()
    values[genes] = rng.permutation(values[genes])
    counts[sample] = values


def test_pca_outlier_flagged_in_a_large_study():
    counts, meta = simulate_study(["Flight"] * 20 + ["GC"] * 20, n_genes=6000)
    plant_outlier(counts, "S07_Flight")
    flags = run_qc(counts, meta)
    assert flags.index[flags["qc_pca_outlier"]].tolist() == ["S07_Flight"]
    assert "PCA outlier" in flags.at["S07_Flight", "qc_reason"]


def test_pca_rule_needs_an_extreme_sample():
    counts, meta = simulate_study(["Flight"] * 20 + ["GC"] * 20)
    log2_expr = run_log2(counts)
    dist, threshold = pca_outlier_distances(log2_expr)
    assert threshold == pytest.approx(dist.mean() + 4 * dist.std(ddof=1))
    assert (dist <= threshold).all()


def test_small_study_is_not_pca_flagged():
    # 3 vs 3: mean + 4 SD cannot be exceeded below 18 samples; the rule is skipped below PCA_MIN_SAMPLES.
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    plant_outlier(counts, "S02_Flight")
    flags = run_qc(counts, meta)
    assert not flags["qc_pca_outlier"].any()
    assert PCA_MIN_SAMPLES > 6


def test_near_duplicate_flags_the_later_sample_within_a_group():
    counts, meta = simulate_study(["Flight"] * 4 + ["GC"] * 4)
    counts["S03_Flight"] = counts["S01_Flight"]  # a copy, later in the same group
    counts["S07_GC"] = counts["S00_Flight"] * 2  # a scaled copy in another group: not "within a group"
    flags = run_qc(counts, meta)
    assert flags.index[flags["qc_near_duplicate"]].tolist() == ["S03_Flight"]
    assert "near-duplicate of S01_Flight" in flags.at["S03_Flight", "qc_reason"]
    assert not flags.at["S01_Flight", "qc_near_duplicate"]


def test_qc_runs_on_the_samples_log2_holds():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    log2_expr = run_log2(counts).drop(columns=["S05_GC"])
    flags = qc_flags(counts, log2_expr, meta)
    assert len(flags) == 6 and not flags["qc_near_duplicate"].any()


def test_apply_qc_excludes_and_keeps_earlier_reasons():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3 + ["BC"])
    meta.loc["S06_BC", ["excluded", "exclusion_reason"]] = [True, "basal control (not binary)"]
    counts["S06_BC"] = counts["S06_BC"] // 10
    counts["S01_Flight"] = counts["S01_Flight"] // 10
    out = apply_qc(meta, run_qc(counts, meta))
    assert out["excluded"].tolist() == [False, True, False, False, False, False, True]
    assert out.at["S01_Flight", "exclusion_reason"].startswith("QC: low library size")
    assert out.at["S06_BC", "exclusion_reason"].startswith("basal control (not binary); QC: low library size")
    assert out.at["S00_Flight", "exclusion_reason"] == ""
    for col in QC_COLUMNS:
        assert col in out.columns
    assert out["qc_low_library"].dtype == bool
    again = apply_qc(out, run_qc(counts, meta))  # idempotent
    pd.testing.assert_frame_equal(again, out)


def test_apply_qc_without_prior_exclusion_columns():
    counts, meta = simulate_study(["Flight"] * 3 + ["GC"] * 3)
    meta = meta.drop(columns=["excluded", "exclusion_reason"])
    out = apply_qc(meta, run_qc(counts, meta))
    assert not out["excluded"].any() and (out["exclusion_reason"] == "").all()


def _meta(groups, excluded=()):
    ids = [f"S{j}" for j in range(len(groups))]
    return pd.DataFrame({"group": groups, "excluded": [i in excluded for i in range(len(groups))]}, index=ids)


def test_mission_eligibility():
    ok = mission_eligibility(_meta(["Flight"] * 3 + ["GC"] * 3))
    assert ok["eligible"] and ok["n_flight"] == 3 and ok["n_gc"] == 3 and ok["reason"] == ""
    assert mission_eligibility(_meta(["Flight"] * 3 + ["VC"] * 3 + ["BC"] * 5))["eligible"]
    split = mission_eligibility(_meta(["Flight"] * 3 + ["GC"] * 2 + ["VC"] * 2))
    assert not split["eligible"] and split["n_ground"] == 4 and "2 GC, 2 VC" in split["reason"]
    after_qc = mission_eligibility(_meta(["Flight"] * 3 + ["GC"] * 3, excluded=(0,)))
    assert not after_qc["eligible"] and after_qc["n_flight"] == 2 and after_qc["n_excluded"] == 1
