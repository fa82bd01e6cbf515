"""Batch corrections (limma-style removeBatchEffect, ComBat-seq via inmoose) per fold in both protocols, the
label-blindness check on planted faults, and the J3 / A1-variant layouts on the published files' own numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.batch_correction import checks, corrections
from genebench_assets.science.batch_correction import evaluation as E
from genebench_assets.science.tasks.folds import build_lomo_folds
from genebench_assets_tests.conftest import published_path

MISSIONS = ("RR-1", "RR-3", "RR-9")


@pytest.fixture(scope="module")
def tissue():
    """400 genes x 3 missions of 8 (4 Flight, 4 Ground) with a gene-wise multiplicative batch effect per mission."""
    rng = np.random.default_rng(7)
    genes = [f"ENSMUSG{i:011d}" for i in range(400)]
    base = rng.gamma(2.0, 60.0, size=len(genes))
    cols, meta = {}, []
    for m in MISSIONS:
        effect = np.exp(rng.normal(0.0, 0.7, size=len(genes)))
        for j in range(8):
            sid = f"{m}_S{j}"
            flight = j < 4
            mu = base * effect * np.where(np.arange(len(genes)) < 20, 1.8 if flight else 1.0, 1.0)
            cols[sid] = rng.negative_binomial(10, 10 / (10 + mu))
            meta.append({"sample_id": sid, "mission": m, "tissue": "liver", "label": 1.0 if flight else 0.0,
                         "excluded": False})
    counts = pd.DataFrame(cols, index=genes)
    meta = pd.DataFrame(meta).set_index("sample_id")
    expr = np.log2(counts / (counts.sum() / 1e6) + 1.0)
    return counts, expr, meta


def _folds(expr, meta, protocol):
    return build_lomo_folds(expr, meta, tissue="liver", task_id="A1", missions=list(MISSIONS), protocol=protocol)


def test_remove_batch_effect_is_limmas_batch_only_and_design_fit():
    x = pd.DataFrame([[1.0, 2.0, 5.0, 7.0], [0.0, 0.0, 4.0, 4.0]], columns=list("abcd"))
    out = corrections.remove_batch_effect(x, ["A", "A", "B", "B"])
    # batch only: x - batch mean + mean of the batch means (contr.sum)
    assert np.allclose(out.to_numpy(), [[3.25, 4.25, 2.75, 4.75], [2.0, 2.0, 2.0, 2.0]])
    # with the design kept, a batch-confounded covariate is left alone where it is estimable
    design = pd.Series([0.0, 1.0, 0.0, 1.0], index=x.columns)
    kept = corrections.remove_batch_effect(x, ["A", "A", "B", "B"], design)
    assert np.allclose((kept["b"] - kept["a"]).to_numpy(), (x["b"] - x["a"]).to_numpy())
    assert np.allclose(kept.loc[:, ["a", "b"]].mean(axis=1), kept.loc[:, ["c", "d"]].mean(axis=1))
    with pytest.raises(ValueError, match="NaN"):
        corrections.remove_batch_effect(x.where(x > 0), ["A", "A", "B", "B"])


@pytest.mark.parametrize("method", ["limma_rbe", "combat_seq"])
def test_strict_training_side_depends_on_training_samples_only_seed_does_not(tissue, method):
    counts, expr, meta = tissue
    matrix = expr if method == "limma_rbe" else corrections.integer_counts(counts)
    batch = meta["mission"]
    fold = next(f for f in _folds(expr, meta, "strict") if f.test_mission == "RR-9")
    bumped = matrix.copy()
    bumped[list(fold.test_ids)] = bumped[list(fold.test_ids)] * 3 + 5
    for protocol, same in (("strict", True), ("seed", False)):
        a, rec = corrections.correct_fold(method, matrix, batch, fold, protocol, list(meta.index))
        b, _ = corrections.correct_fold(method, bumped, batch, fold, protocol, list(meta.index))
        train = list(fold.train_ids)
        assert np.allclose(a[train], b[train]) is same, protocol
        assert rec.labels_from == ()
        assert (set(rec.fitted_on) & set(fold.test_ids) == set()) is same
    # strict: the test mission is moved toward the training reference, from its own samples only
    out, rec = corrections.correct_fold(method, matrix, batch, fold, "strict", list(meta.index))
    assert "test mission" in rec.test_transform
    raw = matrix if method == "limma_rbe" else np.log2(matrix + 1)
    gap_before = abs(raw[list(fold.test_ids)].mean(axis=1) - raw[list(fold.train_ids)].mean(axis=1)).mean()
    gap_after = abs(out[list(fold.test_ids)].mean(axis=1) - out[list(fold.train_ids)].mean(axis=1)).mean()
    assert gap_after < gap_before / 2


def test_limma_seed_and_strict_give_the_same_j3_aurocs(tissue):
    """removeBatchEffect without a design differs between the protocols by a per-gene constant on the training
    side and a per-gene shift of the one test mission: PCA-LR's test AUROC cannot tell them apart."""
    _, expr, meta = tissue
    for fold in _folds(expr, meta, "strict"):
        got = [E.j3_fold_auroc(corrections.correct_fold("limma_rbe", expr, meta["mission"], fold, p, list(meta.index))[0], fold)
               for p in ("seed", "strict")]
        assert got[0] == pytest.approx(got[1], abs=1e-9)


def test_label_check_passes_clean_and_fails_on_a_correction_that_uses_test_labels(tissue, monkeypatch):
    _, expr, meta = tissue
    fold = _folds(expr, meta, "strict")[0]
    ids = list(meta.index)
    for protocol in ("seed", "strict"):
        stored, rec = corrections.correct_fold("limma_rbe", expr, meta["mission"], fold, protocol, ids)
        outcome = checks.labels_never_enter("limma_rbe", expr, meta["mission"], fold, protocol, ids, stored, rec)
        assert outcome.passed, outcome.failures
        assert bool(outcome.metadata["seed_exception"]) is (protocol == "seed")

    def leaky(fold, protocol, tissue_ids):  # the classic leak: removeBatchEffect(x, batch, design = ~label), every sample
        fit = (*fold.train_ids, *fold.test_ids)
        return corrections.FitPlan(tuple(map(str, fit)), pd.Series((*fold.y_train, *fold.y_test), index=list(map(str, fit))))

    monkeypatch.setattr(corrections, "fit_plan", leaky)
    stored, rec = corrections.correct_fold("limma_rbe", expr, meta["mission"], fold, "strict", ids)
    outcome = checks.labels_never_enter("limma_rbe", expr, meta["mission"], fold, "strict", ids, stored, rec)
    assert not outcome.passed
    text = " | ".join(outcome.failures)
    assert "took the labels of" in text and "saw" in text and "differs from the stored" in text
    # the functional part alone catches it even when the record is silent
    silent = corrections.CorrectionRecord("limma_rbe", "strict", fold.fold_id, tuple(fold.train_ids), (), "")
    outcome = checks.labels_never_enter("limma_rbe", expr, meta["mission"], fold, "strict", ids, stored, silent)
    assert [f for f in outcome.failures if "differs from the stored" in f]


def test_label_check_reruns_share_combat_fits_only_when_no_label_enters(tissue, monkeypatch):
    """The check's three ComBat-seq re-runs per fold share one cache (keyed by the fit samples and the design's
    labels): clean, a fold costs one fit and one mapping of the test mission, not three of each; a design that
    takes the test labels is refitted for every change of them, so the planted leak still fails."""
    counts, expr, meta = tissue
    matrix, batch, ids = corrections.integer_counts(counts), meta["mission"], list(meta.index)
    calls = []
    real = corrections.combat_seq
    monkeypatch.setattr(corrections, "combat_seq", lambda *a, **k: calls.append(k.get("design") is not None) or real(*a, **k))
    fold = _folds(expr, meta, "strict")[0]
    stored, rec = corrections.correct_fold("combat_seq", matrix, batch, fold, "strict", ids)
    calls.clear()
    cache: dict = {}
    outcome = checks.labels_never_enter("combat_seq", matrix, batch, fold, "strict", ids, stored, rec, cache=cache)
    assert outcome.passed, outcome.failures
    assert outcome.metadata["max_abs_difference_with_changed_test_labels"] == 0.0
    assert len(calls) == 2  # one fit on the training samples, one mapping of the test mission (was 6)

    def leaky(fold, protocol, tissue_ids):  # ComBat-seq with covar_mod = label over every sample
        fit = tuple(map(str, (*fold.train_ids, *fold.test_ids)))
        return corrections.FitPlan(fit, pd.Series((*fold.y_train, *fold.y_test), index=list(fit)))

    monkeypatch.setattr(corrections, "fit_plan", leaky)
    stored, rec = corrections.correct_fold("combat_seq", matrix, batch, fold, "strict", ids, cache=cache)
    calls.clear()
    outcome = checks.labels_never_enter("combat_seq", matrix, batch, fold, "strict", ids, stored, rec, cache=cache)
    assert calls == [True, True, True]  # flipped, all Flight, all Ground: each its own design, each refitted
    assert not outcome.passed
    assert len([f for f in outcome.failures if "differs from the stored" in f]) == 3


def test_a1_variants_layouts_on_demo_like_data(tissue):
    counts, expr, meta = tissue
    ids = list(meta.index)
    rows = []
    for i, fold in enumerate(_folds(expr, meta, "strict")):
        frame, _ = corrections.correct_fold("combat_seq", corrections.integer_counts(counts), meta["mission"], fold,
                                            "strict", ids)
        rows.append(E.variant_fold_result(frame, fold, "pca_lr", randomness="strict", fold_index=i))
    out = E.a1_combat_published({"pca_lr": rows})
    assert list(out["pca_lr"]["folds"][0]) == list(E.HOLDOUT_KEYS)
    assert out["pca_lr"]["n_folds"] == 3 and out["pca_lr"]["folds"][0]["model"] == "PCA-50 + LogReg"
    iss = E.iss_only_published({"pca_lr": rows}, missions=E.iss_only_missions(["MHU-2", *MISSIONS]))
    assert iss["note"].endswith("(RR-1, RR-3, RR-9)") and iss["best_model"] == "pca_lr"
    assert set(iss["model_results"]["pca_lr"]["per_fold"]["RR-1"]) == {"auroc"}


# ---- the published files' own numbers -----------------------------------------------------------------

def _published(name):
    return json.loads(published_path("genelab_evaluation", name).read_text())


def test_j3_layout_and_summary_reproduce_the_published_file_from_its_aurocs():
    pub = _published("J3_batch_correction_comparison.json")
    cat_a = {t: E.j3_tissue(t, {c: E.j3_condition(v[c]["per_fold"]) for c in E.J3_CONDITIONS_A if c in v})
             for t, v in pub["category_a"].items()}
    cat_b = {t: E.j3_tissue(t, {c: E.j3_pairs(v[c]["pairs"]) for c in ("none", "limma_rbe")})
             for t, v in pub["category_b"].items()}
    again = E.j3_published(cat_a, cat_b, timestamp=pub["timestamp"])
    assert again == pub
    assert list(again) == list(pub) and list(again["summary"]) == list(pub["summary"])


def test_a1_combat_aggregates_reproduce_the_published_file_from_its_folds():
    pub = _published("A1_combat_baseline_results.json")
    again = E.a1_combat_published({"rf": pub["rf"]["folds"]})
    assert again == pub and json.dumps(again) == json.dumps(pub)


def test_iss_only_summary_from_the_published_per_fold_numbers():
    pub = _published("A1_iss_only_baseline_results.json")
    rows = {}
    for model, r in pub["model_results"].items():
        rows[model] = [{"test_mission": m, "auroc": f["auroc"], "ci_lower": f.get("ci_lo", r["mean_ci_lower"]),
                        "ci_upper": f.get("ci_hi", 1.0), "perm_pvalue": f.get("perm_p", r["mean_perm_p"])}
                       for m, f in r["per_fold"].items()]
    again = E.iss_only_published(rows, missions=E.iss_only_missions(["MHU-2", "RR-1", "RR-3", "RR-6", "RR-8", "RR-9"]))
    assert again["task"] == pub["task"] and again["note"] == pub["note"]
    assert again["best_model"] == pub["best_model"] and again["go_nogo"] == pub["go_nogo"]
    for model, r in pub["model_results"].items():
        got = again["model_results"][model]
        assert list(got) == list(r) and got["per_fold"] == r["per_fold"]
        assert got["mean_auroc"] == r["mean_auroc"]
        # the published std is over unrounded AUROCs; from the 3-decimal ones it can move by 0.001
        assert got["std_auroc"] == pytest.approx(r["std_auroc"], abs=0.0015)
