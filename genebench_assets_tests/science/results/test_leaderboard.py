"""Leaderboards (issue 20): records beside the published baselines, labelled and ranked; records of
the built-in evaluation; the seed-vs-strict audit; the self-contained report."""

import numpy as np
import pandas as pd

from genebench_assets.science.results.from_evaluation import records_from_evaluation
from genebench_assets.science.results.leaderboard import leaderboard, render_table, seed_vs_strict
from genebench_assets.science.results.record import validate_record
from genebench_assets.science.results.report import render_report
from genebench_assets_tests.conftest import published_path
from genebench_assets_tests.science.results.record_factory import make_record


def test_ranks_records_beside_published_and_labels_rows():
    published = published_path()   # skips when the published files are absent
    recs = [make_record("my_model", mean=0.95), make_record("plug", kind="plug-in", mean=0.01)]
    rows = leaderboard("genelab", "A2", recs, published_dir=published)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["model"] == "my_model" and rows[0]["kind"] == "submission"
    pub = {r["model"]: r for r in rows if r["kind"] == "published" and r["feature_set"] == "genes"}
    assert set(pub) == {"lr", "rf", "pca_lr", "xgb"}
    pathway = {r["feature_set"] for r in rows if r["kind"] == "published"} - {"genes"}
    assert pathway == {f"pathways:{db}" for db in ("hallmark", "kegg", "reactome", "mitocarta")}
    assert round(pub["lr"]["value"], 4) == 0.9074 and pub["lr"]["source"].endswith("A2_baseline_results.json")
    assert rows[1]["model"] == "lr"                     # 0.95 > 0.9074 > ...
    assert rows[-1]["model"] == "plug" and rows[-1]["kind"] == "plug-in"
    assert "my_model" in render_table(rows)


def test_without_published_files_only_records(tmp_path):
    rows = leaderboard("genelab", "A2", [make_record()], published_dir=tmp_path)
    assert [r["kind"] for r in rows] == ["submission"]


def test_seed_vs_strict_move():
    audit = seed_vs_strict([make_record(protocol="seed", mean=0.8), make_record(protocol="strict", mean=0.75),
                            make_record("only_strict")])
    assert len(audit) == 1 and round(audit[0]["move"], 6) == -0.05


def test_records_from_builtin_evaluation():
    folds = ["fold_RR-1_test", "fold_RR-3_test"]
    ids = [f"s{i}" for i in range(8)]
    labels = pd.Series([1.0, 0.0] * 4, index=ids)
    preds = pd.DataFrame([{"fold_id": folds[i // 4], "feature_set": "genes", "model": m, "sample_id": s,
                           "score": float(labels[s]) * 0.5 + 0.1 * i}
                          for m in ("lr", "negative_control", "positive_control:lr", "plugin:mine")
                          for i, s in enumerate(ids)])
    per_fold = pd.DataFrame([{"feature_set": "genes", "model": m, "fold_id": f, "auroc": 0.9, "ci_lower": 0.6,
                              "ci_upper": 1.0, "perm_p": 0.01, "n_test": 4}
                             for m in ("lr", "plugin:mine") for f in folds])
    tasks = pd.DataFrame([{"feature_set": "genes", "model": m, "mean_auroc": 0.9, "std_auroc": 0.0, "mean_ci_lower": 0.6,
                           "mean_perm_p": 0.01, "pooled_auroc": 0.9, "go": np.bool_(True)}
                          for m in ("lr", "negative_control", "positive_control:lr", "plugin:mine")])
    fit_times = [{"model": "lr", "feature_set": "genes", "seed": 42, "cpu_seconds": 1.5, "peak_rss_mb": 200.0},
                 {"model": "lr", "feature_set": "genes", "seed": 42, "cpu_seconds": 0.5, "peak_rss_mb": 250.0}]
    recs = records_from_evaluation(task_id="A1", protocol="strict", per_fold=per_fold, tasks=tasks, preds=preds,
                                   lomo_labels=labels, folds_data_version="v1", code_version="c1", fit_times=fit_times)
    assert [(r["model"], r["kind"]) for r in recs] == [("lr", "built-in"), ("mine", "plug-in")]
    lr = recs[0]
    validate_record(lr, "test")
    assert lr["cpu_seconds"] == 2.0 and lr["peak_memory_mb"] == 250.0 and lr["seeds"] == [42]
    assert len(lr["folds"]) == 2 and lr["go"] is True and lr["roc"]["fpr"][0] == 0.0


def test_report_lists_user_model_with_inline_images(tmp_path):
    recs = [make_record("planted_user_model", protocol="seed", mean=0.8), make_record("planted_user_model", mean=0.7)]
    tasks = [{"benchmark": "genelab", "task": "A2", "name": "n", "data": "gastrocnemius", "folds": "LOMO",
              "metric": "AUROC", "status": "available", "best_published": None}]
    html = render_report(recs, tasks, data_dir=tmp_path, published_dir=tmp_path, soma_dir=tmp_path)
    assert "planted_user_model" in html and html.count("data:image/png;base64,") == 2   # bar chart + ROC
    assert "-0.1000" in html   # the seed-vs-strict move
    assert "http://" not in html and "https://" not in html.replace("https://osdr.nasa.gov", "")
