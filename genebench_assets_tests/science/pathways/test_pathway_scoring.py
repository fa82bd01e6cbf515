"""Pathway scores against R GSVA 1.46.0 (reference_outputs, small case) and the strict protocol.

Input as for the R run: log2(counts / DESeq2 size factor + 1) for Gaussian GSVA and ssGSEA, rounded
normalized counts for Poisson GSVA. Bar (SPEC §9): per pathway Pearson r >= 0.999, max |diff| <= 1e-3.
ssGSEA is R's algorithm (ours), so it meets the same bar; gseapy's own ssGSEA does not (documented in
`pathway_scoring`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.pathways.gene_sets import read_gmt
from genebench_assets.science.pathways.pathway_scoring import (
    gsva_with_reference,
    score_pathways,
    score_pathways_with_report,
)
from genebench_assets_tests.conftest import shared_path


@pytest.fixture(scope="module")
def small():
    counts = pd.read_csv(shared_path("reference_outputs", "counts_small.csv"), index_col=0)
    sf = pd.read_csv(shared_path("reference_outputs", "deseq2_size_factors_small.csv"), index_col=0)["size_factor"]
    normalized = counts / sf.reindex(counts.columns)
    return {
        "normalized": normalized,
        "log2": np.log2(normalized + 1.0),
        "hallmark": read_gmt(shared_path("gene_sets", "mouse_hallmark_v7.0.gmt")),
    }


def _r_scores(name: str) -> pd.DataFrame:
    # R wrote samples x pathways; ours is pathways x samples.
    return pd.read_csv(shared_path("reference_outputs", f"{name}_small.csv"), index_col=0).T


def _agreement(ours: pd.DataFrame, ref: pd.DataFrame) -> tuple[float, float]:
    assert set(ours.index) == set(ref.index), "different pathways"
    assert list(ours.columns) == list(ref.columns), "different samples"
    ref = ref.loc[ours.index]
    r = min(np.corrcoef(ours.loc[p], ref.loc[p])[0, 1] for p in ours.index)
    return float(r), float(np.abs(ours.to_numpy() - ref.to_numpy()).max())


@pytest.mark.parametrize(
    ("method", "kcdf", "data", "reference"),
    [
        ("gsva", "Gaussian", "log2", "gsva_gaussian"),
        ("gsva", "Poisson", "normalized", "gsva_poisson"),  # rounded inside score_pathways
        ("ssgsea", "Gaussian", "log2", "ssgsea"),
    ],
)
def test_score_pathways_agrees_with_r_gsva(small, method, kcdf, data, reference):
    scores = score_pathways(small[data], small["hallmark"], method=method, kcdf=kcdf)
    assert scores.index.name == "pathway"
    assert list(scores.index) == list(small["hallmark"])  # gene-set order, all 50 kept
    assert scores.dtypes.eq("float64").all()
    r, max_diff = _agreement(scores, _r_scores(reference))
    print(f"\n{method}/{kcdf} vs R GSVA 1.46.0: min per-pathway r = {r:.7f}, max |diff| = {max_diff:.2e}")
    assert r >= 0.999 and max_diff <= 1e-3, (r, max_diff)


def test_strict_with_all_samples_equals_gseapy_and_r(small):
    expr, sets = small["log2"], small["hallmark"]
    strict = gsva_with_reference(expr, sets, list(expr.columns))
    seed = score_pathways(expr, sets)
    r, max_diff = _agreement(strict, seed)
    r_r, max_diff_r = _agreement(strict, _r_scores("gsva_gaussian"))
    print(f"\nstrict (reference = all) vs gseapy gsva: r = {r:.7f}, max |diff| = {max_diff:.2e}; "
          f"vs R: r = {r_r:.10f}, max |diff| = {max_diff_r:.2e}")
    assert r >= 0.999 and max_diff <= 1e-3
    assert r_r >= 0.999 and max_diff_r <= 1e-6  # our kernel is R's, table lookup included


def test_strict_poisson_with_all_samples_equals_r(small):
    strict = gsva_with_reference(small["normalized"], small["hallmark"], list(small["normalized"].columns), kcdf="Poisson")
    r, max_diff = _agreement(strict, _r_scores("gsva_poisson"))
    print(f"\nstrict Poisson (reference = all) vs R: r = {r:.7f}, max |diff| = {max_diff:.2e}")
    assert r >= 0.999 and max_diff <= 1e-3


@pytest.mark.parametrize(("kcdf", "data"), [("Gaussian", "log2"), ("Poisson", "normalized")])
def test_strict_training_scores_ignore_test_samples(small, kcdf, data):
    expr, sets = small[data], small["hallmark"]
    train = [c for i, c in enumerate(expr.columns) if i % 3 != 0]  # 16 train, 8 test, both groups
    test = [c for c in expr.columns if c not in train]
    alone = gsva_with_reference(expr[train], sets, train, kcdf=kcdf)
    with_test = gsva_with_reference(expr, sets, train, kcdf=kcdf)
    rng = np.random.default_rng(7)
    altered = expr.copy()
    altered[test] = altered[test] * rng.uniform(0.2, 5.0, size=(len(expr), len(test)))  # wild test values
    altered["extra_sample"] = expr[test[0]].to_numpy()[::-1]
    with_altered = gsva_with_reference(altered, sets, train, kcdf=kcdf)
    # Training samples: bit-identical whatever the test samples are.
    pd.testing.assert_frame_equal(with_test[train], alone[train], check_exact=True)
    pd.testing.assert_frame_equal(with_altered[train], alone[train], check_exact=True)
    # Test samples: scored, and their scores do depend on their own values.
    assert with_test[test].notna().all().all()
    assert not np.allclose(with_altered[test].to_numpy(), with_test[test].to_numpy())
    # Sample order of the input is the output's, extra sample included.
    assert list(with_altered.columns) == list(altered.columns)


def test_strict_reference_actually_matters(small):
    expr, sets = small["log2"], small["hallmark"]
    train = list(expr.columns[:12])
    fitted_on_train = gsva_with_reference(expr, sets, train)
    fitted_on_all = gsva_with_reference(expr, sets, list(expr.columns))
    assert not np.allclose(fitted_on_train.to_numpy(), fitted_on_all.to_numpy())


def test_strict_input_errors(small):
    expr, sets = small["log2"], small["hallmark"]
    with pytest.raises(ValueError, match="not in the expression columns"):
        gsva_with_reference(expr, sets, ["nope"])
    with pytest.raises(ValueError, match="at least 2 reference samples"):
        gsva_with_reference(expr, sets, [expr.columns[0]])
    gapped = expr.copy()
    gapped.iloc[5, -1] = np.nan  # a test sample misses a gene the training samples have
    with pytest.raises(ValueError, match="lack values"):
        gsva_with_reference(gapped, sets, list(expr.columns[:-1]))
    # A gene missing in a training sample is simply outside the fitted universe.
    gapped_train = expr.copy()
    gapped_train.iloc[5, 0] = np.nan
    assert gsva_with_reference(gapped_train, sets, list(expr.columns)).notna().all().all()
    with pytest.raises(ValueError, match="non-negative"):
        gsva_with_reference(expr - 5, sets, list(expr.columns), kcdf="Poisson")


def test_missing_and_constant_genes_are_dropped_and_reported(small):
    expr, sets = small["log2"].copy(), small["hallmark"]
    expr.iloc[0, 3] = np.nan
    expr.iloc[1] = 4.0  # constant: R GSVA drops it for GSVA, keeps it for ssGSEA
    scores, report = score_pathways_with_report(expr, sets)
    assert report["dropped_missing_genes"] == 1 and report["dropped_constant_genes"] == 1
    assert report["n_genes_used"] == len(expr) - 2
    assert report["gene_sets"]["n_kept"] == 50
    assert report["engine"].startswith("gseapy")
    _, ss_report = score_pathways_with_report(expr, sets, method="ssgsea")
    assert ss_report["n_genes_used"] == len(expr) - 1
    assert scores.notna().all().all()


def test_score_pathways_input_errors(small):
    expr, sets = small["log2"], small["hallmark"]
    with pytest.raises(ValueError, match="method"):
        score_pathways(expr, sets, method="plage")
    with pytest.raises(ValueError, match="kcdf"):
        score_pathways(expr, sets, kcdf="ecdf")
    with pytest.raises(ValueError, match="no gene set"):
        score_pathways(expr, {"upper": [g.upper() for g in sets["HALLMARK_HYPOXIA"]]})
    with pytest.raises(ValueError, match="duplicate gene symbols"):
        score_pathways(pd.concat([expr.iloc[:5], expr.iloc[:5]]), sets)
    with pytest.raises(ValueError, match="non-negative"):
        score_pathways(expr - 5, sets, kcdf="Poisson")


def test_upper_case_gene_names_are_not_recased(small):
    # gseapy guesses gene-name case; our neutral ids stop it. Upper-case data and sets must still work.
    expr = small["log2"].copy()
    expr.index = expr.index.str.upper()
    sets = {name: [g.upper() for g in genes] for name, genes in small["hallmark"].items()}
    upper = score_pathways(expr, sets)
    original = score_pathways(small["log2"], small["hallmark"])
    np.testing.assert_allclose(upper.to_numpy(), original.to_numpy(), atol=1e-12)
