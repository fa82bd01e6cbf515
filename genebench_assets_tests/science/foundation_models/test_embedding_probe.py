"""The embeddings probe (issue 20): guarded reading, training-only fits, the one evaluator, and the
published Geneformer LOMO figures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.foundation_models import embedding_probe as ep
from genebench_assets.science.inputs.guarded_files import InputFileError
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.science.foundation_models.test_tokens import _fold


def _folds():
    a = [f"a{i}" for i in range(8)]
    b = [f"b{i}" for i in range(8)]
    return [_fold(train=a, test=b, fold_id="fold_B_test"), _fold(train=b, test=a, fold_id="fold_A_test")]


def _emb(signal=2.0, dims=6, seed=0):
    ids = [f"{m}{i}" for m in "ab" for i in range(8)]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((len(ids), dims))
    y = np.array([1.0, 0.0] * 8)  # _fold's labels alternate 1, 0 in id order
    x[:, 0] += signal * y
    return pd.DataFrame(x, index=pd.Index(ids, name="sample_id"), columns=[f"d{i}" for i in range(dims)])


def test_probe_scores_every_test_sample_and_the_evaluator_summarizes():
    preds, per_fold, summary = ep.evaluate_embeddings(_emb(signal=4.0), _folds(), protocol="strict")
    assert set(preds.columns) == {"fold_id", "feature_set", "model", "sample_id", "score"}
    assert sorted(per_fold["fold_id"]) == ["fold_A_test", "fold_B_test"]
    assert summary["mean_auroc"] > 0.9 and summary["n_folds"] == 2
    assert {"ci_lower", "ci_upper", "perm_p"} <= set(per_fold.columns)


def test_probe_fits_on_training_samples_only():
    folds = _folds()
    base = ep.probe_embeddings(_emb(), folds)
    # test labels flipped: nothing the probe fits reads them
    flipped = [dataclasses.replace(f, y_test=tuple(1.0 - v for v in f.y_test)) for f in folds]
    pd.testing.assert_frame_equal(base, ep.probe_embeddings(_emb(), flipped))
    # a test sample's embedding changed: the other test samples' scores are unchanged (no scaler on test)
    emb = _emb()
    emb.loc["b0"] += 100.0
    moved = ep.probe_embeddings(emb, folds)
    keep = ~((moved.fold_id == "fold_B_test") & (moved.sample_id == "b0")) & (moved.fold_id == "fold_B_test")
    np.testing.assert_allclose(base[keep]["score"], moved[keep]["score"])


def _write(frame: pd.DataFrame, path, index=True):
    frame.to_parquet(path, index=index)
    return path


def test_bad_embeddings_files_are_refused_in_one_line(tmp_path):
    good = _write(_emb(), tmp_path / "good.parquet")
    assert ep.read_embeddings(good).shape == (16, 6)
    cases = {
        "not parquet": (tmp_path / "x.parquet", "not a parquet file"),
        "nan": (_write(_emb().assign(d2=lambda d: d.d2.where(d.index != "a3")), tmp_path / "nan.parquet"),
                "d2: 1 non-finite value(s) (NaN/inf), first nan at sample 'a3'"),
        "inf": (_write(_emb().replace({_emb().iloc[0, 1]: np.inf}), tmp_path / "inf.parquet"), "non-finite"),
        "no ids": (_write(_emb().reset_index(drop=True), tmp_path / "noid.parquet"), "no sample_id column"),
        "text": (_write(_emb().assign(d1="x"), tmp_path / "text.parquet"), "d1: not numeric"),
    }
    (tmp_path / "x.parquet").write_text("sample_id,d0\na0,1\n")
    for name, (path, expected) in cases.items():
        with pytest.raises(InputFileError) as exc:
            ep.read_embeddings(path)
        assert expected in str(exc.value) and "\n" not in str(exc.value), name
    with pytest.raises(InputFileError, match="not a regular file"):
        ep.read_embeddings(tmp_path)


def test_missing_sample_ids_name_how_many_and_the_first():
    emb = _emb().drop(index=["a5", "b2", "b3"])
    with pytest.raises(InputFileError) as exc:
        ep.require_samples(emb, _folds(), "emb.parquet")
    assert str(exc.value) == ("emb.parquet: sample_id: 3 of the task's 16 sample ids have no embedding row, "
                              "first 'a5'")


def test_published_geneformer_lomo_figures_are_read_from_the_release_results():
    folder = published_path("genelab_evaluation", "geneformer_mouse_gf_A4_lomo_results.json").parent
    pub = ep.published_geneformer(folder, "A4")
    assert pub["tissue"] == "thymus" and pub["n_folds"] == 4
    assert pub["mean_auroc"] == pytest.approx(0.4952, abs=1e-4)
    assert sorted(pub["folds"]) == ["fold_MHU-1_test", "fold_MHU-2_test", "fold_RR-6_test", "fold_RR-9_test"]
    assert pub["folds"]["fold_RR-6_test"]["auroc"] == pytest.approx(0.2974, abs=1e-4)
    assert np.mean([f["auroc"] for f in pub["folds"].values()]) == pytest.approx(pub["mean_auroc"])
    assert ep.published_geneformer(folder, "A9") is None
