"""The one builder of pathway fold features and the check that re-computes them (issue 9), on a small
synthetic tissue (fast; the graph-level proof is defs/tasks/test_pathway_fold_features_graph.py)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.tasks.folds import STEP_GSVA_REFERENCE, build_lomo_folds, fold_pathway_scores
from genebench_assets.science.tasks.leakage_checks import pathway_features_match_training_only_gsva
from genebench_assets.science.tasks.pathway_features import fold_pathway_features
from genebench_assets_tests.science.tasks.test_folds import LOMO, make_tissue

N_SETS, SET_SIZE = 4, 16


def _gene_space(expr):
    genes = [g for g in expr.index if g.startswith("G0")]
    symbol_map = pd.Series({g: f"Sym{g[1:]}" for g in genes})
    symbols = list(symbol_map)
    sets = {f"SET_{k}": [symbols[(k * 7 + j) % len(symbols)] for j in range(SET_SIZE)] for k in range(N_SETS)}
    return symbol_map, sets


@pytest.fixture(scope="module")
def tissue():
    expr, meta = make_tissue()
    folds = build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO, protocol="strict")
    symbol_map, sets = _gene_space(expr)
    return expr, meta, folds, symbol_map, sets


def _features(fold, tissue, **kw):
    expr, _, _, symbol_map, sets = tissue
    return fold_pathway_features(fold, protocol="strict", expression=expr, symbol_map=symbol_map, gene_sets=sets,
                                 min_size=10, **kw)


def test_strict_features_use_the_recorded_reference_and_ignore_test_values(tissue):
    expr, _, folds, _, _ = tissue
    fold = folds[0]
    assert list(fold.fitted_steps[STEP_GSVA_REFERENCE]) == list(fold.train_ids)
    stored = _features(fold, tissue)
    assert list(stored.columns) == list(fold.train_ids) + list(fold.test_ids)
    # Changing every test sample's expression leaves the training features bit for bit equal.
    shaken = expr.copy()
    shaken[list(fold.test_ids)] = shaken[list(fold.test_ids)] * 1.7 + 3.0
    again = fold_pathway_features(fold, protocol="strict", expression=shaken, symbol_map=tissue[3],
                                  gene_sets=tissue[4], min_size=10)
    pd.testing.assert_frame_equal(stored[list(fold.train_ids)], again[list(fold.train_ids)])


def test_check_passes_on_the_builder_output_and_fails_on_a_fit_on_all_samples(tissue):
    expr, _, folds, symbol_map, sets = tissue
    fold = folds[0]
    kw = dict(protocol="strict", expression=expr, symbol_map=symbol_map, gene_sets=sets, min_size=10)
    good = pathway_features_match_training_only_gsva(fold, _features(fold, tissue), **kw)
    assert good.passed, good.failures
    leaky_fold = dataclasses.replace(fold, fitted_steps={**fold.fitted_steps,
                                                         STEP_GSVA_REFERENCE: fold.train_ids + fold.test_ids})
    bad = pathway_features_match_training_only_gsva(fold, _features(leaky_fold, tissue), **kw)
    assert not bad.passed and "differ from the re-computation" in bad.failures[0]
    # a matrix holding other samples than the fold's fails too
    shuffled = _features(fold, tissue).iloc[:, ::-1]
    assert not pathway_features_match_training_only_gsva(fold, shuffled, **kw).passed


def test_seed_features_are_the_stored_per_mission_scores_with_pathways_sorted(tissue):
    _, meta, folds, _, _ = tissue
    rng = np.random.default_rng(1)
    scores = {}
    for m in LOMO:
        ids = list(meta.index[meta["mission"] == m])
        names = ["P_b", "P_a", "P_c"] + ([f"P_only_{m}"] if m != "M-A" else [])
        scores[m] = pd.DataFrame(rng.normal(size=(len(names), len(ids))), index=names, columns=ids)
    seed_fold = dataclasses.replace(folds[0], protocol="seed")
    got = fold_pathway_features(seed_fold, scores_by_mission=scores)
    assert list(got.index) == ["P_a", "P_b", "P_c"]  # shared by every mission, sorted as published
    missions = sorted(set(seed_fold.train_missions) | {seed_fold.test_mission})
    pd.testing.assert_frame_equal(got, fold_pathway_scores(scores, missions)[got.columns])
    assert pathway_features_match_training_only_gsva(seed_fold, got, protocol="seed", scores_by_mission=scores).passed
    edited = got.copy()
    edited.iloc[0, 0] += 0.5
    assert not pathway_features_match_training_only_gsva(seed_fold, edited, protocol="seed",
                                                         scores_by_mission=scores).passed
