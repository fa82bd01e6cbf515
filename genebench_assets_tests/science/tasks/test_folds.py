import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.tasks.feature_filters import VarianceFilter
from genebench_assets.science.tasks.folds import (
    STEP_LOW_EXPRESSION,
    STEP_PATHWAY_SCORING,
    STEP_VARIANCE,
    STEP_ZSCORE,
    Fold,
    build_lomo_folds,
    build_pathway_folds,
    combine_mission_scores,
    export_release_layout,
    fold_matrices,
    fold_test_labels,
)
from genebench_assets_tests.conftest import shared_path

# mission -> (n Flight, n Ground, n BC); a small synthetic tissue
SYNTHETIC_MISSIONS = {"M-A": (4, 4, 2), "M-B": (5, 5, 0), "M-C": (3, 3, 1), "M-D": (1, 2, 0), "H": (3, 3, 0)}
LOMO = ["M-A", "M-B", "M-C", "M-D"]
N_GENES = 60


def make_tissue(seed: int = 0):
    """(expression genes x samples log2, metadata) of a synthetic tissue "testis":
    - M-D has 3 binary samples (its fold is skipped), H is a holdout mission;
    - one Flight sample of M-C is QC-excluded; BC samples are unlabelled;
    - gene G_missing is absent (NaN) from M-B's study;
    - G_only_A is expressed in mission M-A only (kept by the seed filter, not by strict when M-A is test);
    - G_low0..4 are never expressed."""
    rng = np.random.default_rng(seed)
    rows = []
    for mission, (nf, ng, nbc) in SYNTHETIC_MISSIONS.items():
        for group, n in (("Flight", nf), ("GC", ng), ("BC", nbc)):
            for i in range(n):
                rows.append({"sample_id": f"{mission}_{group}_{i}", "mission": mission, "group": group,
                             "label": {"Flight": 1.0, "GC": 0.0}.get(group, np.nan), "tissue": "testis",
                             "osd": f"OSD-{100 + list(SYNTHETIC_MISSIONS).index(mission)}",
                             "excluded": False, "library_size": 2e7, "strain": "C57BL/6J"})
    meta = pd.DataFrame(rows).set_index("sample_id")
    meta.loc["M-C_Flight_0", "excluded"] = True
    samples = list(meta.index)
    genes = [f"G{i:03d}" for i in range(N_GENES - 7)] + ["G_missing", "G_only_A"] + [f"G_low{i}" for i in range(5)]
    scale = rng.uniform(0.05, 2.0, size=(len(genes), 1))
    values = 6 + rng.normal(size=(len(genes), len(samples))) * scale
    expr = pd.DataFrame(values, index=genes, columns=samples)
    expr.loc["G_only_A"] = np.where(meta["mission"] == "M-A", 5.0, 0.0)
    for i in range(5):
        expr.loc[f"G_low{i}"] = 0.2
    expr.loc["G_missing", list(meta.index[meta["mission"] == "M-B"])] = np.nan
    expr.index.name = "gene_id"
    return expr, meta


def build(protocol="strict", **kw):
    expr, meta = make_tissue()
    folds = build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO,
                             holdout_missions=["H"], protocol=protocol, **kw)
    return folds, expr, meta


def test_one_fold_per_mission_sorted_then_holdout_and_skips_are_recorded():
    folds, _, _ = build()
    assert [f.fold_id for f in folds] == ["fold_M-A_test", "fold_M-B_test", "fold_M-C_test", "fold_H_holdout"]
    assert [(s.fold_id, "3 binary samples" in s.reason) for s in folds.skipped] == [("fold_M-D_test", True)]
    by_id = {f.fold_id: f for f in folds}
    assert by_id["fold_M-B_test"].train_missions == ("M-A", "M-C", "M-D")
    holdout = by_id["fold_H_holdout"]
    assert holdout.holdout and holdout.train_missions == tuple(LOMO)


def test_folds_hold_binary_kept_samples_only_and_never_mix_train_and_test():
    folds, _, meta = build()
    for f in folds:
        assert not set(f.train_ids) & set(f.test_ids)
        assert set(meta.loc[list(f.test_ids), "mission"]) == {f.test_mission}
        assert f.test_mission not in set(meta.loc[list(f.train_ids), "mission"])
        assert "M-C_Flight_0" not in f.train_ids + f.test_ids  # QC-excluded
        assert not any("_BC_" in s for s in f.train_ids + f.test_ids)
        assert list(f.y_train) == list(meta.loc[list(f.train_ids), "label"])
    f = folds[0]  # M-A test: train = M-B, M-C (minus the excluded), M-D
    assert f.train_label_distribution == {"Flight": 5 + 2 + 1, "Ground": 5 + 3 + 2}
    assert f.test_label_distribution == {"Flight": 4, "Ground": 4}
    assert f.excluded_bc_ag_samples == 3 and f.excluded_qc_samples == 1


def test_a_class_missing_in_the_test_mission_skips_the_fold():
    expr, meta = make_tissue()
    meta.loc[meta["mission"] == "M-B", "label"] = 1.0
    folds = build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO)
    skipped = {s.fold_id: s.reason for s in folds.skipped}
    assert "Ground" in skipped["fold_M-B_test"]
    assert "fold_M-B_test" not in [f.fold_id for f in folds]


def test_missing_gene_is_never_a_feature():
    folds, _, _ = build()
    for f in folds:
        assert "G_missing" not in f.genes
        assert f.n_genes_missing == 1
        assert not any(g.startswith("G_low") for g in f.genes)


def test_strict_fits_every_step_on_training_samples_seed_filters_on_the_whole_tissue():
    strict, _, meta = build("strict")
    seed, _, _ = build("seed")
    for f in strict:
        assert f.protocol == "strict"
        for step in (STEP_LOW_EXPRESSION, STEP_VARIANCE, STEP_ZSCORE):
            assert f.fitted_steps[step] == f.train_ids
    for f in seed:
        low = set(f.fitted_steps[STEP_LOW_EXPRESSION])
        assert set(f.test_ids) <= low  # the published protocol's whole-tissue filter
        assert "M-A_BC_0" in low and "M-C_Flight_0" not in low  # any group, QC-kept samples
        assert f.fitted_steps[STEP_VARIANCE] == f.train_ids
    # G_only_A is expressed in M-A only: with M-A held out, strict's filter never sees it.
    # (the variance filter then drops it in both: it is constant 0 in the training samples)
    assert "G_only_A" not in strict[0].genes
    assert strict[0].n_genes_before_var_filter == seed[0].n_genes_before_var_filter - 1
    lomo_seed = [f for f in seed if not f.holdout]
    assert len({f.n_genes_before_var_filter for f in lomo_seed}) == 1  # as published: one list per task


def test_variance_filter_is_the_25th_percentile_of_training_variances():
    folds, expr, _ = build()
    f = folds[1]  # M-B test: M-A trains, so G_only_A passes the low-expression filter
    before = [g for g in expr.index if g != "G_missing" and not g.startswith("G_low")]
    expected = VarianceFilter().fit(expr.loc[before], list(f.train_ids))
    assert f.n_genes_before_var_filter == len(before)
    assert f.genes == expected.genes_
    assert f.var_threshold == pytest.approx(expected.threshold_)
    assert f.var_percentile_cutoff == 0.25


def test_normalized_counts_give_the_same_genes_as_log2():
    expr, meta = make_tissue()
    counts = np.power(2.0, expr) - 1
    kw = dict(tissue="testis", task_id="A9", missions=LOMO, protocol="seed")
    a = build_lomo_folds(expr, meta, **kw)
    b = build_lomo_folds(expr, meta, normalized_counts=counts, **kw)
    assert [f.genes for f in a] == [f.genes for f in b]


def test_fold_matrices_are_the_model_view_without_test_labels():
    folds, expr, _ = build()
    f = folds[0]
    X_train, y_train, X_test = fold_matrices(f, expr)
    assert X_train.shape == (f.n_train, len(f.genes)) and X_test.shape == (f.n_test, len(f.genes))
    assert list(X_train.columns) == list(f.genes) and list(X_test.index) == list(f.test_ids)
    assert np.allclose(X_train.mean(axis=0), 0) and np.allclose(X_train.std(axis=0, ddof=1), 1)
    assert list(y_train.index) == list(f.train_ids) and list(y_train) == list(f.y_train)
    # the test side is scaled with the training mean and SD
    g = f.genes[0]
    raw = expr.loc[g, list(f.train_ids)]
    assert X_test[g].iloc[0] == pytest.approx((expr.loc[g, f.test_ids[0]] - raw.mean()) / raw.std(ddof=1))
    labels = fold_test_labels(f)
    assert list(labels.index) == list(f.test_ids) and list(labels) == list(f.y_test)
    X_raw, _, _ = fold_matrices(f, expr, zscore=False)
    assert X_raw.loc[f.train_ids[0], g] == expr.loc[g, f.train_ids[0]]


def test_fold_matrices_fit_the_scaler_on_the_recorded_ids():
    import dataclasses

    folds, expr, _ = build()
    f = folds[0]
    tampered = dataclasses.replace(f, fitted_steps={**f.fitted_steps, STEP_ZSCORE: f.train_ids + f.test_ids})
    a, _, _ = fold_matrices(f, expr)
    b, _, _ = fold_matrices(tampered, expr)
    assert not np.allclose(a.to_numpy(), b.to_numpy())  # the record is what was used


def test_fold_round_trips_through_json():
    folds, _, _ = build("seed")
    for f in folds:
        again = Fold.from_dict(json.loads(json.dumps(f.to_dict())))
        assert again == f


def test_bad_protocol_is_refused():
    expr, meta = make_tissue()
    with pytest.raises(ValueError):
        build_lomo_folds(expr, meta, tissue="testis", task_id="A9", missions=LOMO, protocol="lenient")


def test_pathway_folds_intersect_pathways_without_variance_filter():
    expr, meta = make_tissue()
    rng = np.random.default_rng(3)
    scores = {}
    for m in ["M-A", "M-B", "M-C", "M-D"]:
        ids = list(meta.index[meta["mission"] == m])
        paths = ["P_common1", "P_common2", "P_common3"] + ([f"P_only_{m}"] if m != "M-C" else [])
        scores[m] = pd.DataFrame(rng.normal(size=(len(paths), len(ids))), index=paths, columns=ids)
    # like thymus MHU-2's file: M-D's frame also scores M-C's samples; the first occurrence (M-C) wins
    cd = list(meta.index[meta["mission"] == "M-C"])
    scores["M-D"] = pd.concat([scores["M-D"], pd.DataFrame(9.0, index=scores["M-D"].index, columns=cd)], axis=1)
    folds = build_pathway_folds(scores, meta, tissue="testis", task_id="A9", missions=LOMO)
    assert [f.fold_id for f in folds] == ["fold_M-A_test", "fold_M-B_test", "fold_M-C_test"]
    for f in folds:
        assert f.genes == ("P_common1", "P_common2", "P_common3")  # M-C lacks the mission-only pathways
        assert f.var_percentile_cutoff is None and f.feature_type == "pathways"
        assert set(f.test_ids) <= set(f.fitted_steps[STEP_PATHWAY_SCORING])
        assert f.fitted_steps[STEP_ZSCORE] == f.train_ids
    combined = combine_mission_scores(scores)
    assert not combined.columns.duplicated().any()
    assert (combined.loc["P_common1", cd] == scores["M-C"].loc["P_common1", cd]).all()
    X_train, y_train, X_test = fold_matrices(folds[0], combined)
    assert X_train.shape == (folds[0].n_train, 3) and not X_test.isna().any().any()


def test_export_release_layout_writes_the_published_files(tmp_path):
    folds, expr, meta = build()
    task_dir = export_release_layout(folds, expr, meta, tmp_path, {"generated_at": "2026-01-01T00:00:00"})
    assert task_dir == tmp_path / "A9_testis_lomo"
    f = folds[0]
    fdir = task_dir / f.fold_id
    assert sorted(p.name for p in fdir.iterdir()) == sorted(
        ["train_y.csv", "test_y.csv", "train_meta.csv", "test_meta.csv", "selected_genes.txt", "fold_info.json"])
    lines = (fdir / "train_y.csv").read_text().splitlines()
    assert lines[0] == ",0" and lines[1] == f"{f.train_ids[0]},{f.y_train[0]:.1f}"
    assert (fdir / "selected_genes.txt").read_text().split() == list(f.genes)
    meta_out = pd.read_csv(fdir / "test_meta.csv", index_col=0)
    assert list(meta_out.index) == list(f.test_ids) and set(meta_out["label"]) == {"Flight", "GC"}
    info = json.loads((fdir / "fold_info.json").read_text())
    assert info["n_genes_after_var_filter"] == len(f.genes) and info["n_train"] == f.n_train
    task_info = json.loads((task_dir / "task_info.json").read_text())
    assert task_info["n_folds_generated"] == 3 and task_info["generated_at"] == "2026-01-01T00:00:00"
    assert [x["test_mission"] for x in task_info["folds"]] == ["M-A", "M-B", "M-C"]
    assert json.loads((task_dir / "fold_H_holdout" / "fold_info.json").read_text())["fold_type"] == "held_out"
    assert not list(task_dir.rglob("*.tmp"))  # atomic writes leave no temp file


# --- against the published release (A4 thymus) ---------------------------------------------------

THYMUS_ORDER = ["RR-6", "MHU-1", "MHU-2", "RR-9"]  # the published files' sample order


def _published_thymus():
    task = shared_path("genelab_release", "tasks", "A4_thymus_lomo")
    folds = {}
    for fdir in sorted(task.glob("fold_*")):
        folds[fdir.name] = {
            "train_y": pd.read_csv(fdir / "train_y.csv", index_col=0).iloc[:, 0],
            "test_y": pd.read_csv(fdir / "test_y.csv", index_col=0).iloc[:, 0],
            "info": json.loads((fdir / "fold_info.json").read_text()),
            "dir": fdir,
        }
    return task, folds


def _thymus_inputs(published):
    """Metadata with the published samples, missions and labels; random expression for them."""
    rows = []
    for m in THYMUS_ORDER:
        y = published[f"fold_{m}_test"]["test_y"]
        rows += [{"sample_id": s, "mission": m, "label": float(v), "tissue": "thymus",
                  "group": "Flight" if v == 1.0 else "GC", "excluded": False} for s, v in y.items()]
    y = published["fold_RR-23_holdout"]["test_y"]
    rows += [{"sample_id": s, "mission": "RR-23", "label": float(v), "tissue": "thymus",
              "group": "Flight" if v == 1.0 else "GC", "excluded": False} for s, v in y.items()]
    meta = pd.DataFrame(rows).set_index("sample_id")
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(rng.normal(6, 1, size=(50, len(meta))), index=[f"G{i}" for i in range(50)],
                        columns=meta.index)
    return expr, meta


def test_fold_structure_matches_the_published_thymus_release():
    _, published = _published_thymus()
    expr, meta = _thymus_inputs(published)
    folds = build_lomo_folds(expr, meta, tissue="thymus", task_id="A4", missions=sorted(THYMUS_ORDER),
                             holdout_missions=["RR-23"], protocol="seed")
    assert sorted(f.fold_id for f in folds) == sorted(published)
    assert not folds.skipped
    for f in folds:
        pub = published[f.fold_id]
        assert set(f.train_ids) == set(pub["train_y"].index)
        assert set(f.test_ids) == set(pub["test_y"].index)
        assert dict(zip(f.train_ids, f.y_train)) == pub["train_y"].to_dict()
        info = pub["info"]
        assert f.n_train == info["n_train"] and f.n_test == info["n_test"]
        if not f.holdout:
            assert f.train_missions == tuple(info["train_missions"])
            assert f.train_label_distribution == info["train_label_distribution"]
            assert f.test_label_distribution == info["test_label_distribution"]
        else:
            assert f.train_missions == tuple(info["train_missions"])
            assert f.test_label_distribution == {"Flight": info["n_flight_test"], "Ground": info["n_ground_test"]}


def test_exported_label_files_are_byte_compatible_with_the_published_ones(tmp_path):
    task, published = _published_thymus()
    expr, meta = _thymus_inputs(published)
    folds = build_lomo_folds(expr, meta, tissue="thymus", task_id="A4", missions=sorted(THYMUS_ORDER))
    out = export_release_layout(folds, expr, meta, tmp_path)
    for f in folds:
        for name in ("train_y.csv", "test_y.csv"):
            assert (out / f.fold_id / name).read_bytes() == (task / f.fold_id / name).read_bytes(), (f.fold_id, name)
        ours = json.loads((out / f.fold_id / "fold_info.json").read_text())
        assert list(ours) == list(published[f.fold_id]["info"])  # same keys, same order
    pub_task = json.loads((task / "task_info.json").read_text())
    ours_task = json.loads((out / "task_info.json").read_text())
    assert list(ours_task) == list(pub_task)
    assert [x["test_mission"] for x in ours_task["folds"]] == [x["test_mission"] for x in pub_task["folds"]]


@pytest.mark.parametrize("task", ["A4", "A6"])
def test_pathway_folds_match_the_published_pathway_lomo_sizes(task):
    """Real GSVA scores of the release: per fold the same test mission, number of pathways
    (intersected across the fold's missions), n_train and n_test as the published results."""
    from genebench_assets.science.release import genelab_release as gr

    release = shared_path("genelab_release")
    published_dir = Path(__file__).resolve().parents[2] / "fixtures" / "published_pathway_results"
    rt = gr.read_task(release, task)
    rows = [{"sample_id": s, "mission": f.test_mission, "label": v} for f in rt.folds for s, v in f.test_y.items()]
    meta = pd.DataFrame(rows).set_index("sample_id")
    missions = sorted(f.test_mission for f in rt.folds)
    for db in gr.PATHWAY_DBS:
        scores = {m: pd.concat([gr.read_score_file(p) for p in gr.pathway_score_files(release, rt.tissue, m, db)]).T
                  for m in missions}
        folds = build_pathway_folds(scores, meta, tissue=rt.tissue, task_id=task, missions=missions)
        published = json.loads((published_dir / f"{task}_pathway_{db}_results.json").read_text())["lr"]["folds"]
        assert [(f.test_mission, len(f.genes), f.n_train, f.n_test) for f in folds] == [
            (p["test_mission"], p["n_pathways"], p["n_train"], p["n_test"]) for p in published], db
        X_train, _, X_test = fold_matrices(folds[0], combine_mission_scores(scores))
        assert not X_train.isna().any().any() and not X_test.isna().any().any()
