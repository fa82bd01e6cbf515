"""Source checks: each passes on clean synthetic data and fails on a fixture with the fault planted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.osdr import source_checks as sc
from genebench_assets.science.check_outcome import CheckOutcome


def simulate_counts(ids: list[str], n_genes: int = 2000, seed: int = 0, gene_offset: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    share = np.random.default_rng(12345).lognormal(0, 2, n_genes + gene_offset)[gene_offset:]  # same genes, same means
    mu = share[:, None] / share.sum() * 5e6 * rng.uniform(0.8, 1.25, len(ids))[None, :]
    values = rng.negative_binomial(10, 10 / (10 + mu)).astype("int64")
    genes = pd.Index([f"ENSMUSG{i:011d}" for i in range(gene_offset, gene_offset + n_genes)], name="gene_id")
    return pd.DataFrame(values, index=genes, columns=ids)


def metadata(groups: list[str], osd: str = "OSD-48", prefix: str = "S") -> pd.DataFrame:
    ids = [f"{prefix}{j:02d}" for j in range(len(groups))]
    label = [{"Flight": 1.0, "GC": 0.0, "VC": 0.0}.get(g, np.nan) for g in groups]
    return pd.DataFrame(
        {"osd": osd, "glds_prefix": osd.replace("OSD", "GLDS"), "tissue": "liver", "mission": "RR-1",
         "site": "", "source_file": f"{osd.replace('OSD', 'GLDS')}_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv",
         "group_raw": groups, "group": groups, "label": label, "strain": "C57BL/6J",
         "excluded": False, "exclusion_reason": ""},
        index=pd.Index(ids, name="sample_id"),
    )


CLEAN = ["Flight"] * 4 + ["GC"] * 3 + ["VC"] * 1 + ["BC"] * 2


def assert_outcome(outcome, passed: bool):
    assert isinstance(outcome, CheckOutcome)
    assert outcome.passed is passed, outcome.failures
    assert isinstance(outcome.description, str) and outcome.description
    assert (len(outcome.failures) == 0) == passed


# -- unique sample ids --------------------------------------------------------------------------------

def test_unique_sample_ids_pass():
    assert_outcome(sc.unique_sample_ids(metadata(CLEAN)), True)
    assert_outcome(sc.unique_sample_ids(metadata(CLEAN).reset_index()), True)  # as the Dagster check calls it


def test_unique_sample_ids_fail_on_a_duplicate():
    meta = pd.concat([metadata(CLEAN), metadata(["GC"], osd="OSD-137").rename(index={"S00": "S03"})])
    for frame in (meta, meta.reset_index()):
        out = sc.unique_sample_ids(frame)
        assert_outcome(out, False)
        assert out.failures == ["S03 appears 2 times (OSD-137, OSD-48)"]
        assert out.metadata["n_duplicated_ids"] == 1


# -- counts are non-negative integers -----------------------------------------------------------------

def test_counts_nonnegative_integers_pass():
    counts = simulate_counts(["A", "B", "C"])
    assert_outcome(sc.counts_are_nonnegative_integers(counts), True)
    # A Parquet round-trip of an outer join may give float64 holding whole numbers: still fine.
    assert_outcome(sc.counts_are_nonnegative_integers(counts.astype("float64")), True)


@pytest.mark.parametrize("value, what", [(-3, "negative"), (2.5, "fractional"), (np.nan, "missing"),
                                         (np.inf, "missing")])
def test_counts_nonnegative_integers_fail(value, what):
    counts = simulate_counts(["A", "B", "C"]).astype("float64")
    counts.iloc[7, 1] = value
    out = sc.counts_are_nonnegative_integers(counts)
    assert_outcome(out, False)
    assert out.failures[0].startswith(what) and "gene ENSMUSG00000000007 in sample B" in out.failures[0]


def test_counts_nonnegative_integers_fail_on_text_and_empty():
    counts = simulate_counts(["A", "B"]).astype(object)
    counts["B"] = "12"
    assert_outcome(sc.counts_are_nonnegative_integers(counts), False)
    assert_outcome(sc.counts_are_nonnegative_integers(pd.DataFrame()), False)


def test_many_offenders_are_truncated():
    counts = simulate_counts(["A", "B"]) * -1 - 1
    out = sc.counts_are_nonnegative_integers(counts)
    assert not out.passed and len(out.failures) <= 21 and out.metadata["n_negative"] == 4000


# -- required metadata --------------------------------------------------------------------------------

def test_required_metadata_pass():
    assert_outcome(sc.required_metadata_present(metadata(CLEAN)), True)


@pytest.mark.parametrize("plant, expected", [
    (lambda m: m.drop(columns=["strain"]), "column 'strain' is missing"),
    (lambda m: m.assign(mission=[None] + ["RR-1"] * 9), "sample S00: mission is empty"),
    (lambda m: m.assign(source_file=[""] * 9 + ["x.csv"]), "sample S00: source_file is empty"),
    (lambda m: m.assign(group=["Space"] + CLEAN[1:]), "sample S00: unknown group 'Space'"),
    (lambda m: m.assign(label=[0.0] + list(m["label"])[1:]), "sample S00: label 0.0 does not follow group 'Flight'"),
    (lambda m: m.assign(label=list(m["label"])[:-1] + [1.0]), "sample S09: label 1.0 does not follow group 'BC'"),
])
def test_required_metadata_fail(plant, expected):
    out = sc.required_metadata_present(plant(metadata(CLEAN)))
    assert_outcome(out, False)
    assert expected in out.failures


def test_required_columns_are_configurable():
    meta = metadata(CLEAN).drop(columns=["strain"])
    required = tuple(c for c in sc.REQUIRED_METADATA if c != "strain")
    assert_outcome(sc.required_metadata_present(meta, required=required), True)


# -- Flight / Ground minimums -------------------------------------------------------------------------

def test_flight_ground_minimums_pass():
    out = sc.flight_ground_minimums(metadata(CLEAN))
    assert_outcome(out, True)
    assert out.metadata["n_flight"] == 4 and out.metadata["n_ground"] == 4  # GC + VC; BC is not binary


def test_flight_ground_minimums_fail_after_exclusions():
    meta = metadata(CLEAN)
    meta.loc[["S00", "S01"], "excluded"] = True
    out = sc.flight_ground_minimums(meta)
    assert_outcome(out, False)
    assert out.failures == ["Flight: 2 < 3 after exclusions"]


def test_flight_ground_minimums_basal_controls_do_not_count():
    out = sc.flight_ground_minimums(metadata(["Flight"] * 3 + ["GC"] * 2 + ["BC"] * 4))
    assert_outcome(out, False)
    assert out.failures == ["Ground: 2 < 3 after exclusions"]


# -- expected counts ----------------------------------------------------------------------------------

def test_expected_counts_match_pass_and_fail():
    meta = metadata(CLEAN)
    assert_outcome(sc.expected_counts_match(meta, expected_flight=4, expected_ground=4), True)
    meta.loc["S05", "excluded"] = True
    out = sc.expected_counts_match(meta, expected_flight=4, expected_ground=4)
    assert_outcome(out, False)
    assert out.failures == ["Ground: 3 samples after exclusions, catalog expects 4"]


# -- no sample in two studies (the duplicate-study trap) ----------------------------------------------

def two_studies():
    return {
        "OSD-48 (liver RR-1)": simulate_counts([f"A{j}" for j in range(8)], seed=1),
        "OSD-137 (liver RR-3)": simulate_counts([f"B{j}" for j in range(8)], seed=2),
    }


def test_no_sample_in_two_studies_pass():
    out = sc.no_sample_in_two_studies(two_studies())
    assert_outcome(out, True)
    assert out.metadata["n_studies"] == 2 and out.metadata["n_genes_compared"] == 2000


def test_duplicate_by_sample_id():
    studies = two_studies()
    studies["OSD-168 (liver RR-1)"] = simulate_counts(["A3", "C1"], seed=3)  # same id, other counts
    out = sc.no_sample_in_two_studies(studies)
    assert_outcome(out, False)
    assert out.failures == ["sample id A3 is in OSD-168 (liver RR-1), OSD-48 (liver RR-1)"]


def test_duplicate_by_expression_fingerprint():
    studies = two_studies()
    # An OSD-168-like re-processing: OSD-48's samples under new ids, one at twice the depth, + one new sample.
    a = studies["OSD-48 (liver RR-1)"]
    studies["OSD-168 (liver)"] = pd.concat(
        [a[["A2"]].rename(columns={"A2": "X1"}), (a[["A5"]] * 2).rename(columns={"A5": "X2"}),
         simulate_counts(["X3"], seed=4)], axis=1)
    out = sc.no_sample_in_two_studies(studies)
    assert_outcome(out, False)
    assert out.metadata["n_fingerprint_pairs"] == 2 and out.metadata["n_shared_ids"] == 0
    assert any(f.startswith("A2 (OSD-48 (liver RR-1)) ~ X1 (OSD-168 (liver))") for f in out.failures)
    assert any(f.startswith("A5 (OSD-48 (liver RR-1)) ~ X2 (OSD-168 (liver))") for f in out.failures)


def test_fingerprint_on_log2_expression_and_shared_genes_only():
    studies = two_studies()
    log2 = {k: np.log2(v / v.sum() * 1e6 + 1) for k, v in studies.items()}
    assert_outcome(sc.no_sample_in_two_studies(log2), True)
    # The copy lives in a study with extra genes (and misses some): compared on the shared genes.
    copy = log2["OSD-48 (liver RR-1)"][["A0"]].rename(columns={"A0": "Z0"})
    extra = pd.DataFrame({"Z0": np.arange(50.0)}, index=[f"ENSMUSG9{i:010d}" for i in range(50)])
    log2["OSD-999 (kidney RR-1)"] = pd.concat([copy.iloc[100:], extra])
    out = sc.no_sample_in_two_studies(log2)
    assert_outcome(out, False)
    assert out.metadata["n_genes_compared"] == 1900 and out.metadata["n_fingerprint_pairs"] == 1


def test_fingerprint_is_vectorized_on_a_gene_subset_for_large_inputs():
    studies = {f"OSD-{k}": simulate_counts([f"S{k}_{j}" for j in range(40)], n_genes=20000, seed=k)
               for k in range(1, 4)}
    studies["OSD-4"] = studies["OSD-2"][["S2_7"]].rename(columns={"S2_7": "dup"})
    out = sc.no_sample_in_two_studies(studies, max_genes=3000)
    assert_outcome(out, False)
    assert out.metadata["n_genes_compared"] == 3000 and out.metadata["n_fingerprint_pairs"] == 1
    assert out.failures[0].startswith("S2_7 (OSD-2) ~ dup (OSD-4)")


def test_samples_within_one_study_are_not_compared():
    study = simulate_counts(["A0", "A1"], seed=1)
    study["A2"] = study["A0"]  # a within-study duplicate is sample QC's business, not this check's
    assert_outcome(sc.no_sample_in_two_studies({"OSD-48": study, "OSD-137": simulate_counts(["B0"], seed=2)}), True)
