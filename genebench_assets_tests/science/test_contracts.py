"""The pandera data contracts (docs/ARCHITECTURE.md) on real-shaped tables, each shown to fail on a
planted violation with a one-line message naming the file, the field and the value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.contracts import ContractError, check_contract
from genebench_assets.science.storage.table_store import TableStore

SAMPLES = [f"Mmus_C57-6J_GST_RR9_{g}_Rep{i}" for g in ("FLT", "GC") for i in range(1, 5)]


def counts():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.poisson(50, (200, 8)).astype("int64"), columns=SAMPLES,
                        index=pd.Index([f"ENSMUSG{i:011d}" for i in range(200)], name="gene_id"))


def metadata():
    flight = [s for s in SAMPLES if "FLT" in s]
    m = pd.DataFrame(index=pd.Index(SAMPLES, name="sample_id"))
    for c, v in dict(osd="OSD-326", glds_prefix="GLDS-326", tissue="gastrocnemius", mission="RR-9",
                     source_file="GLDS-326_rna_seq_RSEM_Unnormalized_Counts.csv", strain="C57BL/6J",
                     exclusion_reason="").items():
        m[c] = v
    m["site"] = None
    m["group_raw"] = ["Space Flight" if s in flight else "Ground Control" for s in SAMPLES]
    m["group"] = ["Flight" if s in flight else "GC" for s in SAMPLES]
    m["label"] = [1.0 if s in flight else 0.0 for s in SAMPLES]
    m["library_size"] = pd.array([10_000_000] * 8, dtype="Int64")
    m["n_detected_genes"] = pd.array([5800] * 8, dtype="Int64")
    for c in ("qc_low_library", "qc_low_genes", "qc_pca_outlier", "qc_near_duplicate", "excluded"):
        m[c] = False
    return m


def expression():
    return np.log2(counts().astype("float64") + 1)


def predictions():
    return pd.DataFrame({"fold_id": "fold_RR-9_test", "test_mission": "RR-9", "feature_set": "genes", "model": "lr",
                         "sample_id": SAMPLES, "score": np.linspace(0, 1, 8)})


GOOD = {"raw_counts": counts, "sample_metadata": metadata, "normalized_expression": expression,
        "pathway_scores": lambda: expression().iloc[:20].set_axis([f"HALLMARK_{i}" for i in range(20)]),
        "model_predictions": predictions}


@pytest.mark.parametrize("asset", sorted(GOOD))
def test_valid_tables_pass(asset):
    check_contract(asset, GOOD[asset](), "x.parquet")


def _set(df, row, col, value):
    df = df.copy()
    if col in df and df[col].dtype == "int64" and not isinstance(value, (int, np.integer)):
        df[col] = df[col].astype(object)
    df.loc[row, col] = value
    return df


@pytest.mark.parametrize("asset, plant, expected", [
    ("raw_counts", lambda: _set(counts(), "ENSMUSG00000000007", SAMPLES[2], -3), [SAMPLES[2], "ENSMUSG00000000007", "-3"]),
    ("raw_counts", lambda: counts().astype("float64"), ["int64"]),
    ("raw_counts", lambda: counts().set_axis(["ENSMUSG1"] * 200), ["ENSMUSG1", "uniqueness"]),
    ("sample_metadata", lambda: _set(metadata(), SAMPLES[0], "group", "Space Potato"), ["'group'", "Space Potato", SAMPLES[0]]),
    ("sample_metadata", lambda: _set(metadata(), SAMPLES[5], "label", 1.0), [SAMPLES[5], "label_matches_group"]),
    ("sample_metadata", lambda: _set(metadata(), SAMPLES[1], "label", 0.5), ["'label'", "0.5"]),
    ("sample_metadata", lambda: _set(metadata(), SAMPLES[3], "excluded", True), [SAMPLES[3], "excluded_has_reason"]),
    ("sample_metadata", lambda: metadata().drop(columns="strain"), ["strain"]),
    ("normalized_expression", lambda: _set(expression(), "ENSMUSG00000000004", SAMPLES[1], np.inf), [SAMPLES[1], "inf", "finite"]),
    ("normalized_expression", lambda: _set(expression(), "ENSMUSG00000000004", SAMPLES[1], -0.5), [SAMPLES[1], "-0.5"]),
    ("model_predictions", lambda: pd.concat([predictions(), predictions().iloc[:1]], ignore_index=True), ["unique"]),
    ("model_predictions", lambda: _set(predictions(), 3, "score", np.nan), ["'score'"]),
])
def test_planted_violation_fails_in_one_line(asset, plant, expected):
    with pytest.raises(ContractError) as err:
        check_contract(asset, plant(), f"tables/{asset}/gastrocnemius/RR-9.parquet")
    message = str(err.value)
    assert "\n" not in message and f"tables/{asset}/gastrocnemius/RR-9.parquet" in message
    for word in expected:
        assert word in message, message


def test_table_store_writes_nothing_off_contract(tmp_path):
    store = TableStore(tmp_path)
    bad = _set(counts(), "ENSMUSG00000000007", SAMPLES[2], -3)
    with pytest.raises(ContractError, match="RR-9.parquet"):
        store.write_frame(bad, "raw_counts", "gastrocnemius", "RR-9")
    assert not store.exists("raw_counts", "gastrocnemius", "RR-9")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    store.write_frame(counts(), "raw_counts", "gastrocnemius", "RR-9")  # the valid table is written
    assert store.exists("raw_counts", "gastrocnemius", "RR-9")


def test_a_merged_pair_may_hold_the_nans_of_its_outer_join_and_nothing_else():
    """skin MHU-2 merges two studies on gene id: a gene one study lacks is NaN (never 0), and the
    table is float64; a single study's float table, or a merged one with a fractional or negative
    count, still breaks the contract."""
    merged = counts().astype("float64")
    merged.iloc[0, 0] = np.nan
    merged.attrs["merged_from"] = ["OSD-238", "OSD-239"]
    check_contract("raw_counts", merged)
    single = merged.copy()
    single.attrs["merged_from"] = ["OSD-238"]
    with pytest.raises(ContractError):
        check_contract("raw_counts", single)
    for bad_value in (2.5, -1.0):
        bad = merged.copy()
        bad.iloc[1, 1] = bad_value
        with pytest.raises(ContractError):
            check_contract("raw_counts", bad)
