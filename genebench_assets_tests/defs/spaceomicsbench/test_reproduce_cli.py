"""`genebench reproduce spaceomicsbench` (cheap cases: a bad --data path, an unavailable task) and
the published results layout it writes (built from fixed inputs, without running the models)."""

from __future__ import annotations

import warnings

import dagster as dg

from genebench_assets_tests.conftest import shared_path

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def test_cli_rejects_a_data_dir_without_tasks(tmp_path, monkeypatch, capsys):
    from genebench_assets.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    rc = main(["reproduce", "spaceomicsbench", "--data", str(tmp_path), "--protocol", "seed", "--out", str(tmp_path / "o")])
    assert rc == 2
    out = capsys.readouterr().out
    assert "no tasks/ folder" in out and str(tmp_path) in out and "Traceback" not in out


def test_cli_runs_a_task_partition_and_reports_unavailable(tmp_path, monkeypatch, capsys):
    from genebench_assets.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))  # not the repo's data/
    rc = main(["reproduce", "spaceomicsbench", "--data", str(shared_path("spaceomicsbench")), "--protocol", "strict",
               "--out", str(tmp_path / "o"), "--task", "F2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "F2" in out and "unavailable: microbiome_human_taxonomy_cpm.csv" in out


def test_results_file_has_the_published_layout_and_seed_vs_strict():
    from genebench_assets.science.spaceomicsbench.leaderboard import (
        leaderboard_markdown, results_file, seed_vs_strict)
    from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS

    a1 = {"random": {"accuracy": {"mean": 0.25, "std": 0.1}, "macro_f1": {"mean": 0.2143, "std": 0.1}},
          "logreg": {"accuracy": {"mean": 0.6, "std": 0.1}, "macro_f1": {"mean": 0.55, "std": 0.1}},
          "logreg_per_fold": [{"accuracy": 0.6, "macro_f1": 0.55, "test_crew": "C001"}]}
    f4_seed = {"logreg": {"macro_f1": {"mean": 0.16, "std": 0.0}}}
    f4_strict = {"logreg": {"macro_f1": {"mean": 0.45, "std": 0.0}}}
    primary = {"A1": "macro_f1", "F4": "macro_f1"}
    unavailable = {t: "unavailable: x.csv" for t in TASK_IDS if t not in primary}
    seed = results_file({"A1": a1, "F4": f4_seed}, unavailable, {"A1": 0.3, "F4": 0.1}, {"A1": 0.2143}, primary, "seed")
    assert seed["A1"]["logreg"]["macro_f1"] == {"mean": 0.55, "std": 0.1}
    assert seed["A1"]["logreg_per_fold"][0]["test_crew"] == "C001"
    assert seed["B1"] == {"error": "unavailable: x.csv"}
    assert seed["_composite"]["logreg"]["category_scores"]["A_clinical"] == round((0.55 - 0.3) / 0.7, 4)
    assert seed["_random_baselines"] == {"A1": 0.2143}
    assert "_composite_empirical_random" in seed and seed["_chance_levels"]["A1"]["analytic"] == 0.3
    assert "Unavailable" in leaderboard_markdown(seed)
    strict = results_file({"A1": a1, "F4": f4_strict}, unavailable, {"A1": 0.3, "F4": 0.1}, {}, primary, "strict")
    rows = {(r["task"], r["model"]): r for r in seed_vs_strict(seed, strict, primary)}
    assert rows[("F4", "logreg")]["strict_minus_seed"] == 0.29
    assert "misaligned" in rows[("F4", "logreg")]["defect_fixed"]


def test_leaderboard_asset_writes_results_side_by_side_and_lineage_to_task_files(tmp_path, capsys):
    """soma_leaderboard through Dagster on stored per-task evaluation records (the models are
    exercised by test_soma_graph.py): published layout, unavailable tasks listed, seed vs strict with
    the defect, provenance down to the task files' sha256."""
    import json
    from pathlib import Path

    from genebench_assets.definitions import defs
    from genebench_assets.defs.spaceomicsbench.reproduce import run_config
    from genebench_assets.science.spaceomicsbench.task_definitions import TASK_IDS
    from genebench_assets.science.storage.table_store import TableStore

    store = TableStore(tmp_path / "data")
    for proto in ("seed", "strict"):
        for t in TASK_IDS:
            if t in ("B1", "F1", "F2", "F3"):
                rec = {"task_id": t, "status": "unavailable: x.csv", "files": []}
                store.write_json(rec, "soma_evaluation", proto, t)
                store.write_json(rec, "soma_task_definition", proto, t)
                continue
            m = "micro_f1" if t == "B2" else "macro_f1" if t in ("A1", "A2", "C1", "F4", "F5", "G1") else "auroc"
            lr = 0.6 + (0.1 if proto == "strict" and t == "F4" else 0.0)
            res = {"random": {m: {"mean": 0.3, "std": 0.1}}, "logreg": {m: {"mean": lr, "std": 0.1}}}
            if proto == "strict" and t == "F4":   # strict predictions scored with the seed metric
                res["_strict_data_seed_metric"] = {"random": {m: {"mean": 0.3, "std": 0.1}},
                                                   "logreg": {m: {"mean": 0.67, "std": 0.1}}}
            store.write_json({"task_id": t, "status": "available", "primary_metric": m, "results": res,
                              "analytic_chance": 0.25, "empirical_random": 0.3}, "soma_evaluation", proto, t)
            store.write_json({"task_id": t, "status": "available", "files": [
                {"osd": "SpaceOmicsBench", "file_name": f"tasks/{t}.json", "sha256": "a" * 64}]},
                "soma_task_definition", proto, t)
    cfg = run_config(Path(shared_path("spaceomicsbench")), "seed", tmp_path / "out", data_dir=tmp_path / "data")
    result = defs.resolve_job_def("soma_leaderboard_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=cfg, raise_on_error=False)
    assert result.success
    md = result.get_asset_materialization_events()[0].materialization.metadata
    out = json.loads((tmp_path / "out" / "baseline_results.json").read_text())
    assert out["F4"]["logreg"]["macro_f1"]["mean"] == 0.6 and out["B1"] == {"error": "unavailable: x.csv"}
    assert out["_composite"]["logreg"]["composite"] == round((0.6 - 0.25) / 0.75, 4)
    assert out["_composite_empirical_random"]["logreg"]["composite"] == round((0.6 - 0.3) / 0.7, 4)
    assert "F_source" in out["_composite"]["_unavailable"]["categories_without_data"]
    assert "+0.1000" in md["seed_vs_strict"].value and "misaligned" in md["seed_vs_strict"].value
    # The +0.1 split in order: id join +0.07 (seed metric on strict data), class list +0.03.
    assert "id join +0.0700; macro-F1 class list +0.0300; remainder +0.0000" in md["seed_vs_strict"].value
    by_defect = {(e["task"], e["step"]): e for e in md["seed_vs_strict_attribution"].value}
    assert by_defect[("F4", "id_join")]["largest_delta"] == 0.07
    assert by_defect[("F4", "macro_f1_class_list")]["largest_delta"] == 0.03
    assert "| F4 | macro_f1 | id join | 1/2 |" in md["seed_vs_strict_by_defect"].value
    side = json.loads((tmp_path / "out" / "seed_vs_strict.json").read_text())
    (f4,) = [r for r in side["rows"] if r["task"] == "F4" and r["model"] == "logreg"]
    assert round(sum(s["delta"] for s in f4["attribution"]) + f4["remainder"], 4) == f4["strict_minus_seed"] == 0.1
    assert "id join" in (tmp_path / "out" / "seed_vs_strict.md").read_text()
    # what `genebench reproduce spaceomicsbench` prints after the leaderboard
    from genebench_assets.defs.spaceomicsbench.reproduce import print_seed_vs_strict

    capsys.readouterr()
    print_seed_vs_strict(tmp_path / "out")
    printed = capsys.readouterr().out
    assert "F4  macro_f1  id_join" in printed and "mean +0.0350, largest +0.0700" in printed
    assert "macro_f1_class_list  moved 1/2 models: mean +0.0150, largest +0.0300" in printed
    assert out["F4"]["logreg"]["macro_f1"]["mean"] == 0.6   # the seed file: no "_" variant in the seed run
    assert "_strict_data_seed_metric" not in out["F4"]
    assert "data:image/png;base64," in md["chart"].value
    files = {f["file_name"] for f in md["provenance"].value["raw_files"]}
    assert {"tasks/A1.json", "tasks/I3.json"} <= files


def test_cli_evaluate_spaceomicsbench_submission(tmp_path, capsys):
    import json

    from genebench_assets.cli import main
    from genebench_assets.science.spaceomicsbench.splits import task_folds
    from genebench_assets.science.spaceomicsbench.task_data import build_task_data
    from genebench_assets.science.spaceomicsbench.task_definitions import load_task_definition

    root = shared_path("spaceomicsbench")
    task = load_task_definition(root / "tasks", "A2")
    data = build_task_data(task, root / "data", "strict")
    folds, _ = task_folds(root / "splits", task.split_name, data)
    sub = {"predictions": [{"split_idx": i, "y_pred": ["pre_flight"] * len(f.test_rows)} for i, f in enumerate(folds)]}
    path = tmp_path / "A2.json"
    path.write_text(json.dumps(sub))
    args = ["evaluate", "--benchmark", "spaceomicsbench", "--data", str(root), "--task", "A2", "--submission", str(path)]
    assert main(args) == 0
    assert "macro_f1" in capsys.readouterr().out
    sub["predictions"][1]["y_pred"] = sub["predictions"][1]["y_pred"][:-1]
    path.write_text(json.dumps(sub))
    assert main(args) == 2
    out = capsys.readouterr().err  # errors go to stderr, one line
    assert "A2.json: fold 1: field 'y_pred' must be a list of 7 class names" in out and "Traceback" not in out
