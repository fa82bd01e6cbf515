"""Geneformer-style rank tokens (issue 20): medians from the fold's training samples only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.foundation_models.tokens import (
    export_tokens, fold_tokens, rank_tokens, training_medians)
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.tasks.folds import Fold

TRAIN, TEST = ["s1", "s2", "s3", "s4"], ["t1", "t2"]


def _fold(train=TRAIN, test=TEST, fold_id="fold_T_test"):
    return Fold(task_id="A9", tissue="t", fold_id=fold_id, test_mission="T", train_missions=("S",),
                train_ids=tuple(train), test_ids=tuple(test), y_train=(1.0, 0.0) * (len(train) // 2),
                y_test=(1.0, 0.0) * (len(test) // 2), genes=(), n_genes_before_var_filter=0,
                var_percentile_cutoff=None, var_threshold=None, train_label_distribution={},
                test_label_distribution={}, protocol="strict", fitted_steps={}, excluded_bc_ag_samples=0,
                excluded_qc_samples=0)


def _expression(n_genes=50, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(20, size=(n_genes, 6)).astype(float)
    counts[rng.random(counts.shape) < 0.2] = 0.0
    genes = [f"ENSMUSG{i:011d}" for i in range(n_genes)]
    return pd.DataFrame(np.log2(counts + 1), index=pd.Index(genes, name="gene_id"), columns=TRAIN + TEST)


def test_a_planted_test_sample_change_leaves_every_training_median_unchanged():
    expr = _expression()
    before = training_medians(expr, TRAIN)
    planted = expr.copy()
    planted[TEST] = planted[TEST] * 5 + 3  # the test samples' expression changes beyond recognition
    after = training_medians(planted, TRAIN)
    pd.testing.assert_series_equal(before, after)
    # ...while a training sample's change does move them (the check has teeth)
    moved = expr.copy()
    moved[TRAIN[:3]] = moved[TRAIN[:3]] + 2
    assert not training_medians(moved, TRAIN).equals(before)
    # and through fold_tokens: the training samples' tokens are unchanged too
    tok_before, _ = fold_tokens(_fold(), expr)
    tok_after, med_after = fold_tokens(_fold(), planted)
    pd.testing.assert_series_equal(med_after, before)
    pd.testing.assert_frame_equal(tok_before[tok_before.sample_id.isin(TRAIN)].reset_index(drop=True),
                                  tok_after[tok_after.sample_id.isin(TRAIN)].reset_index(drop=True))


def test_test_sample_tokens_are_ranked_by_training_medians():
    expr = _expression()
    tokens, medians = fold_tokens(_fold(), expr)
    counts = np.exp2(expr) - 1
    expected_med = counts[TRAIN].median(axis=1)
    expected_med = expected_med[expected_med > 0]
    pd.testing.assert_series_equal(medians, expected_med.rename("median").sort_index(), check_names=False)
    for sample in TEST:
        ratio = (counts.loc[expected_med.index, sample] / expected_med)
        ratio = ratio[ratio > 0]
        order = sorted(ratio.index, key=lambda g: (-ratio[g], g))
        got = tokens[tokens.sample_id == sample].sort_values("rank")
        assert list(got["gene_id"]) == order
        assert list(got["rank"]) == list(range(1, len(order) + 1))
    # an all-sample median would give other test tokens here: the test samples dominate one gene
    all_med = counts.median(axis=1)
    assert not np.allclose(all_med[expected_med.index], expected_med)


def test_zero_median_genes_zero_counts_and_the_top_n_cap():
    genes = ["g_a", "g_b", "g_c", "g_d"]
    counts = pd.DataFrame({"s1": [10, 0, 4, 4], "s2": [10, 0, 4, 4], "t1": [5, 99, 0, 8]}, index=genes, dtype=float)
    expr = np.log2(counts + 1)
    med = training_medians(expr, ["s1", "s2"])
    assert list(med.index) == ["g_a", "g_c", "g_d"]  # g_b: zero training median, never a token
    tok = rank_tokens(expr, ["t1", "s1"], med, top_n=2)
    assert list(tok[tok.sample_id == "t1"]["gene_id"]) == ["g_d", "g_a"]  # 8/4 > 5/10; g_c is zero
    assert list(tok[tok.sample_id == "s1"]["gene_id"]) == ["g_a", "g_c"]  # ties (1.0) by gene id, top 2
    with pytest.raises(KeyError, match="training samples not in the expression"):
        training_medians(expr, ["nope"])


def test_export_writes_tokens_medians_and_a_manifest_with_sha256s(tmp_path):
    expr = _expression()
    folds = [_fold(), _fold(train=TRAIN[:2] + TEST, test=TRAIN[2:], fold_id="fold_U_test")]
    manifest_path = export_tokens(folds, expr, tmp_path, task_id="A9", tissue="t", top_n=10)
    manifest = json.loads(manifest_path.read_text())
    assert manifest_path == tmp_path / "A9" / "manifest.json"
    assert [f["fold_id"] for f in manifest["folds"]] == ["fold_T_test", "fold_U_test"]
    for entry in manifest["folds"]:
        fdir = tmp_path / "A9" / entry["fold_id"]
        for name, digest in entry["files"].items():
            assert sha256_file(fdir / name) == digest
        tok = pd.read_parquet(fdir / "tokens.parquet")
        assert list(tok.columns) == ["sample_id", "rank", "gene_id"]
        assert set(tok.sample_id) == set(entry["train_ids"]) | set(entry["test_ids"])
        assert tok.groupby("sample_id").size().max() <= 10
        assert tok.gene_id.str.startswith("ENSMUSG").all()
    with pytest.raises(Exception, match="outside"):
        export_tokens([_fold(fold_id="../../escape")], expr, tmp_path, task_id="A9", tissue="t")
