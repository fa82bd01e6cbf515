"""The leakage audit (issue 24): each defect's evidence planted in small inputs is reported as a
number, and each move is attributed to the defect that causes it, one defect at a time in a fixed
order (steps + remainder = strict - seed); on the real release the D4 move is the thymus rows'."""

from __future__ import annotations

import json

from genebench_assets.science.categories import leakage_audit as audit
from genebench_assets_tests.conftest import published_path, shared_path

MHU1 = ["Mmus_C57-6CR_TMS_MHU1_GC_1G_Rep1", "Mmus_C57-6CR_TMS_MHU1_GC_1G_Rep2", "Mmus_C57-6CR_TMS_MHU1_GC_1G_Rep3"]
REPEAT = {"samples": MHU1, "n_repeated_rows": 3, "max_abs_gsva_difference": 0.41}
STRAIN = {"n_relabelled": 3, "d4_classes_with_release_metadata": 1, "d4_classes_with_names": 2}


def _d(seed, strict, samples, ci=(0.5, 0.9)):
    return {"seed": {"macro_f1": seed, "ci_low": float("nan"), "ci_high": float("nan"), "_details": {"samples": samples}},
            "strict": {"macro_f1": strict, "ci_low": ci[0], "ci_high": ci[1], "_details": {"samples": samples}}}


def _c(seed, strict, samples):
    return {"seed": {"auroc": seed, "train_samples": samples, "test_scores": {}},
            "strict": {"auroc": strict, "ci_low": 0.4, "ci_high": 0.8, "train_samples": samples, "test_scores": {}}}


def _rows(**kw):
    base = dict(c={}, d={}, j5={}, nes=None, evidence={"thymus_repeat": REPEAT, "strain": STRAIN})
    base.update(kw)
    return {r["task"]: r for r in audit.audit_rows(base["c"], base["d"], base["j5"], base["nes"], base["evidence"])}


def _adds_up(row):
    assert row["measured"]
    assert round(sum(s["delta"] for s in row["steps"]) + row["remainder"], 4) == round(row["strict"] - row["seed"], 4)


def test_steps_apply_in_the_fixed_order_and_add_up():
    attr = audit.attribute(0.9, 0.6, [(audit.NES_HARDCODED, 0.6, {}), (audit.NES_DROPPED, 0.55, {})])
    assert [s["defect"] for s in attr["steps"]] == [audit.NES_DROPPED, audit.NES_HARDCODED]
    assert [s["delta"] for s in attr["steps"]] == [-0.35, 0.05] and attr["remainder"] == 0.0
    # a step the data cannot give stops the split: nothing after it is credited
    attr = audit.attribute(0.5, 0.7, [(audit.THYMUS_ROWS, None, {}), (audit.STRAIN, 0.7, {})])
    assert [s["delta"] for s in attr["steps"]] == [None, None] and not attr["measured"] and attr["remainder"] is None
    # an undeclared move is remainder, named "unexplained"
    attr = audit.attribute(0.5, 0.7, [])
    assert attr["remainder"] == 0.2 and attr["moved_by"] == ["unexplained"]


def test_d4_move_goes_to_the_thymus_rows_and_the_strain_defect_costs_nothing():
    rows = _rows(d={"D4": _d(0.8172, 0.7613, MHU1 + ["Mmus_C57-6J_TMS_RR6_GC_Rep1"]),
                    "D6_thymus": _d(0.6413, 0.6413, ["Mmus_C57-6J_TMS_MHU2_GC_Rep1"], ci=(0.277, 1.0))})
    d4 = rows["D4"]
    assert [s["defect"] for s in d4["steps"]] == [audit.THYMUS_ROWS, audit.STRAIN]
    assert [s["delta"] for s in d4["steps"]] == [-0.0559, 0.0] and d4["moved_by"] == [audit.THYMUS_ROWS]
    assert d4["steps"][0]["evidence"]["n_rows_from_repeat"] == 3 and d4["steps"][1]["evidence"]["n_relabelled"] == 3
    assert d4["strict_ci"] == [0.5, 0.9]
    _adds_up(d4)
    # D6 thymus reads no repeated row: no defect, its CI shown
    assert rows["D6_thymus"]["steps"] == [] and rows["D6_thymus"]["defect"] is None
    assert rows["D6_thymus"]["strict_ci"] == [0.277, 1.0]


def test_c_rows_name_the_thymus_rows_only_when_the_pair_reads_them():
    rows = _rows(c={"C1": _c(0.48, 0.48, ["liver_1"]), "C4": _c(0.6904, 0.6922, MHU1)})
    assert rows["C1 method C"]["defect"] is None
    c4 = rows["C4 method C"]
    assert c4["moved_by"] == [audit.THYMUS_ROWS] and c4["steps"][0]["delta"] == 0.0018 and c4["strict_ci"] == [0.4, 0.8]


def _plant_published(tmp_path, *, a4_fold_p, nc1_a4_p=0.037213):
    cat, ev = tmp_path / "genelab_category_results", tmp_path / "genelab_evaluation"
    cat.mkdir()
    ev.mkdir()
    entries = [{"task_id": "A4", "category": "A", "perm_p": nc1_a4_p, "n_perm": 1000, "model": "pca_lr", "significant": True},
               {"task_id": "D3_pathway", "category": "D", "perm_p": 1.0, "significant": False}]
    (cat / "NC1_permutation_summary.json").write_text(json.dumps({"entries": entries}))
    (ev / "A4_baseline_results.json").write_text(json.dumps({"pca_lr": {"folds": [{"perm_pvalue": p} for p in a4_fold_p]}}))
    (cat / "D_condition_summary.json").write_text(json.dumps({"tasks": {
        "D3": {"feature_modes": {"pathway": {"perm_p": 1.0}}},
        "D4": {"feature_modes": {"pathway": {"perm_p": 0.0148}, "gene": {"perm_p": 0.0044}}}}}))
    (cat / "C_cross_tissue_summary.json").write_text(json.dumps({"tasks": {
        "C1": {"n_test": 118, "method_b": {"auroc": 0.4411, "n_shared_degs": 1132, "n_features": 1128}}}}))
    (cat / "NC2_housekeeping_summary.json").write_text(json.dumps({"results": [
        {"tissue": "liver", "mean_auroc": 0.54}, {"tissue": "thymus", "mean_auroc": 0.765}]}))
    return tmp_path


def test_nc1_stale_a4_p_and_missing_d_entries_are_quantified_and_attributed(tmp_path):
    published = _plant_published(tmp_path, a4_fold_p=[2 / 11, 2 / 11, 1 / 11, 1 / 11])
    ev = audit.collect_evidence(None, published)
    a4 = ev["nc1"]["a4"]
    assert a4["source_n_perm_per_fold"] == 10 and a4["reachable_minimum_p"] == 0.0909
    assert a4["published_significant"] and not a4["source_significant"]
    assert ev["nc1"]["missing_d"] == {"D4_pathway": 0.0148, "D4_gene": 0.0044}
    rows = _rows(evidence=ev)
    row = rows["NC1 A4 entry"]
    assert row["seed"] == 0.037213 and round(row["strict"], 4) == 0.1364 and row["moved_by"] == [audit.NC1_STALE_A4]
    assert row["steps"][0]["evidence"]["verdict_flipped"] == 1
    _adds_up(row)
    assert (rows["NC1 D entries"]["seed"], rows["NC1 D entries"]["strict"]) == (1, 3)
    sig = rows["NC1 significant entries"]
    assert [s["delta"] for s in sig["steps"]] == [-1, 2] and (sig["seed"], sig["strict"]) == (1, 2)
    _adds_up(sig)
    # planted: method B's shared-DEG count and NC2's tissue outside the band are reported as numbers
    b = rows["C1 method B"]
    assert b["steps"][0]["evidence"]["published_n_shared_degs"] == 1132 and not b["measured"]
    assert rows["NC2"]["steps"][0]["evidence"] == {"thymus_mean_auroc": 0.765}


def test_method_b_uses_our_gene_level_strict_value_when_given(tmp_path):
    published = _plant_published(tmp_path, a4_fold_p=[0.5, 0.5])
    gene = {"C1": {"seed": {"method_b": {"n_shared_degs": 40, "auroc": 0.7}},
                   "strict": {"method_b": {"auroc": 0.55, "ci_low": 0.45, "ci_high": 0.65, "n_features": 300}}}}
    ev = audit.collect_evidence(None, published, gene)
    b = _rows(evidence=ev)["C1 method B"]
    assert b["strict"] == 0.55 and b["strict_ci"] == [0.45, 0.65]
    assert b["steps"][0]["evidence"]["our_seed_n_shared_degs"] == 40


def test_nes_row_splits_the_dropped_tissue_from_the_hard_coded_aurocs(tmp_path):
    nes = {"data": {"liver": {"transfer_auroc": 0.577}, "thymus": {"transfer_auroc": 0.86}},
           "published_rank_correlation": {"rho": 0.8999999999, "n": 5},
           "rank_correlation": {"rho": 0.6, "n": 6, "p": 0.208},
           "strict": {"rank_correlation": {"rho": 0.5, "p": 0.3}, "transfer_auroc": {"liver": 0.5768, "thymus": 0.8598},
                      "transfer_source": "B evaluation"}}
    row = _rows(nes=nes)["NES conservation vs B transfer"]
    assert row["seed"] == 0.9 and row["strict"] == 0.5 and row["transfer_source"] == "B evaluation"
    assert [(s["defect"], s["delta"]) for s in row["steps"]] == [(audit.NES_DROPPED, -0.3), (audit.NES_HARDCODED, -0.1)]
    assert row["steps"][1]["evidence"]["max_abs_auroc_rounding"] == 0.0002
    _adds_up(row)
    paths = audit.write_audit(tmp_path / "out", list(_rows(nes=nes).values()))
    assert [p.name for p in paths] == ["leakage_audit.json", "leakage_audit.md"]
    assert json.loads(paths[0].read_text())["order"][0] == audit.THYMUS_ROWS
    assert "| NES conservation vs B transfer | spearman_rho | 0.900 | 0.500 |" in paths[1].read_text()


def test_evidence_on_the_real_release_and_published_files():
    release, published = shared_path("genelab_release"), published_path("genelab_category_results").parent
    ev = audit.collect_evidence(release, published)
    assert ev["thymus_repeat"]["n_repeated_rows"] == 9 and ev["strain"]["n_relabelled"] == 3
    assert ev["strain"]["d4_classes_with_release_metadata"] == 1
    assert [ev["method_b"][t]["published_n_shared_degs"] for t in ("C1", "C2", "C3", "C4")] == [1132, 495, 1995, 1246]
    a4 = ev["nc1"]["a4"]
    assert round(a4["published_p"], 4) == 0.0372 and a4["reachable_minimum_p"] == 0.0909
    assert sorted(ev["nc1"]["missing_d"]) == ["D4_gene", "D4_pathway", "D5_liver_gene", "D5_liver_pathway",
                                              "D5_thymus_gene", "D5_thymus_pathway"]


def test_d6_has_a_bootstrap_ci_in_strict_and_none_in_seed():
    from genebench_assets.science.categories import condition_prediction

    release = shared_path("genelab_release")
    for task, ci in (("D6_liver", (0.111, 0.583)), ("D6_thymus", (0.277, 1.0))):
        strict = condition_prediction.run_task(release, task, "strict", n_permutations=10)
        assert (round(strict["ci_low"], 3), round(strict["ci_high"], 3)) == ci
        seed = condition_prediction.run_task(release, task, "seed", n_permutations=10)
        assert seed["ci_low"] != seed["ci_low"]          # NaN, as published
