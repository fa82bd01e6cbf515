"""pydeseq2 Flight vs Ground against R DESeq2 1.38.3 on the reference counts."""

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.expression.differential_expression import deseq2_flight_vs_ground, deseq2_wald
from genebench_assets.science.osdr.source_files import StudyDataError
from genebench_assets_tests.conftest import shared_path


def test_wald_statistics_match_r_deseq2():
    counts = pd.read_csv(shared_path("reference_outputs", "counts_small.csv"), index_col=0)
    r = pd.read_csv(shared_path("reference_outputs", "deseq2_results_small.csv"), index_col=0)
    condition = pd.Series(["FLT" if c.endswith("FLT") else "GC" for c in counts.columns], index=counts.columns)
    ours = deseq2_wald(counts, condition, test="FLT", reference="GC")
    both = ours.join(r, rsuffix="_r").dropna(subset=["stat", "stat_r"])
    assert len(both) > 0.95 * len(r.dropna(subset=["stat"]))
    # Same sign convention as R's results(dds) with FLT vs GC, and near-identical values.
    assert np.corrcoef(both["stat"], both["stat_r"])[0, 1] > 0.999
    assert np.corrcoef(both["log2FoldChange"], both["log2FoldChange_r"])[0, 1] > 0.999
    assert np.median(np.abs(both["stat"] - both["stat_r"])) < 1e-2


def _meta(labels):
    return pd.DataFrame({"label": labels, "excluded": False, "osd": "OSD-1"},
                        index=[f"s{i}" for i in range(len(labels))])


def test_flight_positive_sign_on_planted_effect():
    rng = np.random.default_rng(0)
    labels = [1.0] * 4 + [0.0] * 4
    counts = pd.DataFrame(rng.poisson(200, size=(300, 8)), columns=[f"s{i}" for i in range(8)],
                          index=[f"ENSMUSG{i:011d}" for i in range(300)])
    counts.iloc[0, :4] *= 8  # gene 0 up in Flight
    res = deseq2_flight_vs_ground(counts, _meta(labels))
    assert res.iloc[0]["stat"] > 5 and res.iloc[0]["log2FC"] > 2


def test_too_few_samples_names_the_study():
    counts = pd.DataFrame(np.ones((10, 3), dtype=int), columns=["s0", "s1", "s2"])
    with pytest.raises(StudyDataError, match="OSD-1.*1 / 2|OSD-1.*Flight"):
        deseq2_flight_vs_ground(counts, _meta([1.0, 0.0, 0.0]))
