import dataclasses

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.tasks import leakage_checks as lc
from genebench_assets.science.tasks.folds import (
    STEP_LOW_EXPRESSION,
    STEP_VARIANCE,
    STEP_ZSCORE,
    build_lomo_folds,
    fold_matrices,
)
from genebench_assets_tests.science.tasks.test_folds import LOMO, make_tissue


@pytest.fixture(scope="module")
def tissue():
    return make_tissue()


@pytest.fixture(scope="module")
def strict_folds(tissue):
    expr, meta = tissue
    return build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO,
                            holdout_missions=["H"], protocol="strict")


@pytest.fixture(scope="module")
def seed_folds(tissue):
    expr, meta = tissue
    return build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO, protocol="seed")


def _says_what_it_compared(outcome):
    assert outcome.description and isinstance(outcome.metadata, dict) and outcome.metadata


# 1 ---------------------------------------------------------------------------------------------
def test_shared_sample_ids(strict_folds):
    for f in strict_folds:
        out = lc.no_shared_sample_ids(f)
        assert out.passed, out.failures
        _says_what_it_compared(out)
    f = strict_folds[0]
    leaked = dataclasses.replace(f, test_ids=f.test_ids[:-1] + (f.train_ids[0],))
    out = lc.no_shared_sample_ids(leaked)
    assert not out.passed and out.metadata["n_shared"] == 1 and f.train_ids[0] in out.failures[0]
    doubled = dataclasses.replace(f, train_ids=f.train_ids[:-1] + (f.train_ids[0],))
    assert not lc.no_shared_sample_ids(doubled).passed


# 2 ---------------------------------------------------------------------------------------------
def test_test_mission_in_train(strict_folds, tissue):
    _, meta = tissue
    for f in strict_folds:
        out = lc.no_test_mission_in_train(f, meta)
        assert out.passed, out.failures
        _says_what_it_compared(out)
    f = strict_folds[0]  # test mission M-A
    planted = dataclasses.replace(f, train_ids=f.train_ids + ("M-A_Flight_0",), y_train=f.y_train + (1.0,))
    out = lc.no_test_mission_in_train(planted, meta)
    assert not out.passed and "M-A_Flight_0" in out.failures[0]
    unknown = dataclasses.replace(f, train_ids=f.train_ids[:-1] + ("ghost",))
    out = lc.no_test_mission_in_train(unknown, meta)
    assert not out.passed and out.metadata["n_unknown_ids"] == 1
    # the metadata is also accepted with sample_id as a column
    assert lc.no_test_mission_in_train(f, meta.reset_index()).passed


# 3 ---------------------------------------------------------------------------------------------
def test_fitted_steps_strict_folds_pass(strict_folds):
    for f in strict_folds:
        out = lc.fitted_steps_saw_training_only(f)
        assert out.passed, out.failures
        assert out.metadata["seed_protocol_exceptions"] == {}
        assert set(out.metadata["steps"]) == {STEP_LOW_EXPRESSION, STEP_VARIANCE, STEP_ZSCORE}


def test_fitted_steps_seed_filter_is_a_reported_exception_not_a_failure(seed_folds):
    f = seed_folds[0]
    out = lc.fitted_steps_saw_training_only(f, protocol="seed")
    assert out.passed
    assert STEP_LOW_EXPRESSION in out.metadata["seed_protocol_exceptions"]
    assert "exception" in out.description
    # the same fold judged under the strict protocol fails
    strict = lc.fitted_steps_saw_training_only(f, protocol="strict")
    assert not strict.passed and STEP_LOW_EXPRESSION in strict.failures[0]
    assert strict.metadata["steps"][STEP_LOW_EXPRESSION]["n_test_seen"] == f.n_test


def test_fitted_steps_leak_outside_the_seed_exceptions_fails_in_both_protocols(strict_folds):
    f = strict_folds[0]
    leaked = dataclasses.replace(f, fitted_steps={**f.fitted_steps, STEP_VARIANCE: f.train_ids + f.test_ids[:1]})
    for protocol in ("strict", "seed"):
        out = lc.fitted_steps_saw_training_only(leaked, protocol=protocol)
        assert not out.passed and STEP_VARIANCE in out.failures[0]
    planted = dataclasses.replace(f, fitted_steps={**f.fitted_steps, STEP_LOW_EXPRESSION: f.train_ids + f.test_ids})
    assert not lc.fitted_steps_saw_training_only(planted).passed  # the fold's own protocol: strict
    assert not lc.fitted_steps_saw_training_only(dataclasses.replace(f, fitted_steps={})).passed


# 4 ---------------------------------------------------------------------------------------------
def test_label_derived_features(strict_folds):
    genes = list(strict_folds[0].genes) + ["Stat1", "Nes", "HALLMARK_IL6_JAK_STAT3_SIGNALING"]
    clean = lc.no_label_derived_features(genes, {g: "normalized_expression" for g in genes})
    assert clean.passed, clean.failures
    _says_what_it_compared(clean)
    assert lc.no_label_derived_features(genes).passed  # names only
    for bad in ("ENSMUSG00000000001_log2FC", "log2FoldChange", "stat", "padj", "pvalue", "lfc", "gene_lfcSE"):
        out = lc.no_label_derived_features(genes + [bad])
        assert not out.passed and bad in out.failures[0], bad
    # provenance catches a label-derived column whatever its name
    prov = {g: "normalized_expression" for g in genes} | {"ENSMUSG00000000099": "deseq2_dge"}
    out = lc.no_label_derived_features(genes + ["ENSMUSG00000000099"], prov)
    assert not out.passed and out.metadata["n_flagged_by_provenance"] == 1
    prov = {g: ("normalized_expression",) for g in genes} | {"P1": ["gsva", "fgsea_nes"]}
    assert not lc.no_label_derived_features(genes + ["P1"], prov).passed
    # a feature without provenance cannot be vouched for
    out = lc.no_label_derived_features(genes + ["mystery"], {g: "normalized_expression" for g in genes})
    assert not out.passed and out.metadata["n_without_provenance"] == 1


# 5 ---------------------------------------------------------------------------------------------
def test_expression_duplicates(strict_folds, tissue):
    expr, _ = tissue
    for f in strict_folds:
        X_train, _, X_test = fold_matrices(f, expr)
        out = lc.no_expression_duplicates(X_train, X_test)
        assert out.passed, out.failures
        _says_what_it_compared(out)
        assert out.metadata["max_r"] < 0.9999
    X_train, _, X_test = fold_matrices(strict_folds[0], expr)
    planted = X_test.copy()
    planted.iloc[2] = X_train.iloc[5].to_numpy() * 1.000001 + 1e-9  # a re-scaled copy of a training sample
    out = lc.no_expression_duplicates(X_train, planted)
    assert not out.passed and out.metadata["n_failures"] == 1
    assert out.metadata["max_r_pair"] == [str(planted.index[2]), str(X_train.index[5])]


def test_expression_duplicates_matches_corrcoef():
    rng = np.random.default_rng(0)
    A = pd.DataFrame(rng.normal(size=(7, 30)), index=[f"tr{i}" for i in range(7)])
    B = pd.DataFrame(rng.normal(size=(4, 30)), index=[f"te{i}" for i in range(4)])
    out = lc.no_expression_duplicates(A, B, threshold=-1.0)  # every pair "fails": all r reported
    full = np.corrcoef(np.vstack([B.to_numpy(), A.to_numpy()]))[:4, 4:]
    assert out.metadata["n_failures"] == 28
    assert out.metadata["max_r"] == pytest.approx(full.max())


def test_expression_duplicates_constant_rows_compare_exactly():
    A = pd.DataFrame([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], index=["a", "b"])
    assert not lc.no_expression_duplicates(A, pd.DataFrame([[1.0, 1.0, 1.0]], index=["t"])).passed
    assert lc.no_expression_duplicates(A, pd.DataFrame([[2.0, 2.0, 2.0]], index=["t"])).passed


# 6 ---------------------------------------------------------------------------------------------
def test_class_balance(strict_folds):
    for f in strict_folds:
        out = lc.class_balance_ok(f)
        assert out.passed, out.failures
        _says_what_it_compared(out)
    f = strict_folds[0]
    one_class = dataclasses.replace(f, y_test=tuple(1.0 for _ in f.y_test))
    out = lc.class_balance_ok(one_class)
    assert not out.passed and "Ground" in out.failures[0]
    too_few = dataclasses.replace(f, test_ids=f.test_ids[:3], y_test=(1.0, 0.0, 1.0))
    assert not lc.class_balance_ok(too_few).passed
    no_ground_train = dataclasses.replace(f, y_train=tuple(1.0 for _ in f.y_train))
    assert not lc.class_balance_ok(no_ground_train).passed


# text-LLM few-shot examples ------------------------------------------------------------------------
def test_text_llm_examples(strict_folds, tissue):
    _, meta = tissue
    f = strict_folds[0]
    out = lc.text_llm_examples_from_train_only(list(f.train_ids[:4]), f, meta)
    assert out.passed, out.failures
    out = lc.text_llm_examples_from_train_only([f.train_ids[0], f.test_ids[0]], f, meta)
    assert not out.passed and "test sample" in out.failures[0]
    assert not lc.text_llm_examples_from_train_only(["M-A_BC_0"], f).passed  # not a training sample
