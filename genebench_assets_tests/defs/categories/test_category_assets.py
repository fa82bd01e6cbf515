"""The category assets through the real Dagster graph: `genebench reproduce categories` writes the
published files with every reproducible number equal to the published one (key by key), and each
blocking check fails on a planted fault, after which no published-layout file exists."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from genebench_assets.science.categories import published_layout
from genebench_assets_tests.defs.gating.refusals import assert_refused
from genebench_assets_tests.conftest import published_path, shared_path



def published() -> Path:
    return published_path("genelab_category_results")


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    work = tmp_path_factory.mktemp("categories")
    release = shared_path("genelab_release")
    env = {"DAGSTER_HOME": str(work / "home"), "GENEBENCH_DATA_DIR": str(work / "data"),
           "PATH": str(Path(sys.executable).parent), "HOME": str(work)}
    (work / "home").mkdir()
    (work / "home" / "dagster.yaml").touch()
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "reproduce", "categories", "--release", str(release),
                           "--out", str(work / "out")], env=env, cwd=work, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work


@pytest.mark.slow
def test_reproduce_categories_matches_every_published_number(reproduced):
    ours = published_layout.read_documents(reproduced / "out")
    assert published_layout.compare_reproducible(ours, published_layout.read_documents(published())) == []


@pytest.mark.slow
def test_reproduced_files_show_strict_beside_seed(reproduced):
    ours = published_layout.read_documents(reproduced / "out")
    d = ours[published_layout.D_FILE]["strict_protocol"]
    assert round(d["D4"]["macro_f1"], 3) == 0.761 and round(d["D5_thymus"]["macro_f1"], 3) == 0.457
    assert "MHU-2_gsva" in d["D4"]["defect"] and d["D6_thymus"]["defect"] is None
    assert ours[published_layout.C_FILE]["strict_protocol"]["C1"]["auroc_minus_seed"] == 0.0
    rc = ours[published_layout.NES_FILE]["rank_correlation"]
    assert rc["n"] == 6 and round(rc["rho"], 1) == 0.6


@pytest.mark.slow
def test_the_run_is_recorded_in_the_instance(reproduced):
    with dg.DagsterInstance.from_config(str(reproduced / "home")) as instance:
        for key in ("cross_tissue_pathway_transfer", "condition_prediction_pathway", "j5_pathway_lomo", "category_published_files"):
            assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key


# --- planted faults ------------------------------------------------------------------------------

def _planted_release(root: Path, copy: list[str]) -> Path:
    """A release whose entries are links to the real one, except the relative paths in ``copy``
    (copied, to be modified)."""
    real = shared_path("genelab_release")
    out = root / "release"
    for top in ("tasks", "processed/fgsea", "processed/pathway_scores", "processed/dge"):
        (out / top).mkdir(parents=True, exist_ok=True)
        for entry in (real / top).iterdir():
            rel = f"{top}/{entry.name}"
            if rel in copy:
                shutil.copytree(entry, out / rel) if entry.is_dir() else shutil.copy(entry, out / rel)
            else:
                (out / rel).symlink_to(entry)
    (out / "processed" / "ensembl_symbol_map.csv").symlink_to(real / "processed" / "ensembl_symbol_map.csv")
    return out


def _run(tmp_path: Path, release: Path, partitions: list[str], refused=None):
    """`refused`: (input asset, partition, failed check): then also launch the readers in a separate run."""
    from genebench_assets.defs.categories.reproduce import reproduce_categories
    from genebench_assets.definitions import defs

    out = tmp_path / "out"
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        code = reproduce_categories(instance, defs, release=release, out=out, data_dir=tmp_path / "data", partitions=partitions)
        checks = {}
        for record in instance.get_event_records(dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)):
            ev = record.event_log_entry.dagster_event.event_specific_data
            checks[ev.check_name] = ev
        published = instance.get_latest_materialization_event(dg.AssetKey("category_published_files"))
        if refused:
            _assert_readers_refused(instance, tmp_path, release, *refused)
    return code, out, checks, published


def _assert_readers_refused(instance, tmp_path: Path, release: Path, asset: str, partition: str, check: str):
    """A later, separate run of only the readers (the UI's "Materialize selected", same instance): the read
    gate refuses the input whose blocking check failed, in one line; nothing is written or recorded."""
    from genebench_assets.defs.categories.assets import category_published_files, leakage_audit, result_path
    from genebench_assets.defs.release.resources import ReleaseSettings
    from genebench_assets.defs.runtime.settings import GenebenchSettings

    settings = GenebenchSettings(data_dir=str(tmp_path / "data"))
    later = dg.materialize([category_published_files, leakage_audit], instance=instance, raise_on_error=False,
                           resources={"settings": settings, "release_settings": ReleaseSettings(
                               release_dir=str(release), out_dir=str(tmp_path / "out"))})
    for reader in ("category_published_files", "leakage_audit"):
        assert_refused(later, reader, asset, partition, check)
        assert not instance.fetch_materializations(dg.AssetKey(reader), limit=1).records, reader
    assert not result_path(settings, "leakage_audit", "all").exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _assert_blocked(code, out, published):
    assert code == 1
    assert published is None
    assert not out.exists() or not any(out.iterdir())


def test_cross_tissue_disjointness_fails_on_a_liver_sample_planted_in_kidney(tmp_path):
    release = _planted_release(tmp_path, ["processed/pathway_scores/kidney", "tasks/A3_kidney_lomo"])
    real = shared_path("genelab_release")
    liver = pd.read_csv(real / "processed/pathway_scores/liver/RR-1_gsva_hallmark.csv", index_col=0).iloc[[0]]
    sid = liver.index[0]
    gsva = release / "processed/pathway_scores/kidney/RR-1_gsva_hallmark.csv"
    pd.concat([pd.read_csv(gsva, index_col=0), liver]).to_csv(gsva)
    fold = release / "tasks/A3_kidney_lomo/fold_RR-1_test"
    y = pd.read_csv(fold / "test_y.csv", index_col=0)
    y.loc[sid] = 1.0
    y.to_csv(fold / "test_y.csv")
    meta = pd.read_csv(fold / "test_meta.csv", index_col=0)
    meta.loc[sid] = meta.iloc[0]
    meta.to_csv(fold / "test_meta.csv")

    code, out, checks, published = _run(tmp_path, release, ["C1"], refused=("cross_tissue_pathway_transfer", "C1", "cross_tissue_train_test_disjoint"))
    _assert_blocked(code, out, published)
    ev = checks["cross_tissue_train_test_disjoint"]
    assert not ev.passed and sid in ev.description
    assert checks["cross_tissue_features_from_training_tissue"].passed


def test_feature_list_check_fails_when_test_tissue_enrichment_enters_the_ranking(tmp_path):
    """The seed's C method B analogue: enrichment of the test tissue mixed into the training tissue's ranking."""
    release = _planted_release(tmp_path, ["processed/fgsea/liver"])
    real = shared_path("genelab_release")
    target = release / "processed/fgsea/liver/RR-1_fgsea_hallmark.csv"
    kidney = pd.read_csv(real / "processed/fgsea/kidney/RR-1_fgsea_hallmark.csv")
    pd.concat([pd.read_csv(target), kidney]).to_csv(target, index=False)

    code, out, checks, published = _run(tmp_path, release, ["C1"],
                                        refused=("cross_tissue_pathway_transfer", "C1", "cross_tissue_features_from_training_tissue"))
    _assert_blocked(code, out, published)
    ev = checks["cross_tissue_features_from_training_tissue"]
    assert not ev.passed and "kidney" in ev.description


def test_class_minimum_check_fails_when_d4_keeps_one_c57bl6cr_sample(tmp_path):
    release = _planted_release(tmp_path, ["processed/pathway_scores/thymus"])
    drop = ["Mmus_C57-6CR_TMS_MHU1_GC_1G_Rep2", "Mmus_C57-6CR_TMS_MHU1_GC_1G_Rep3"]
    for f in (release / "processed/pathway_scores/thymus").glob("MHU-*_gsva_hallmark.csv"):
        pd.read_csv(f, index_col=0).drop(index=drop).to_csv(f)

    code, out, checks, published = _run(tmp_path, release, ["D4"])
    _assert_blocked(code, out, published)
    ev = checks["condition_class_minimums"]
    assert not ev.passed and "'C57BL/6CR' has 1 samples, fewer than 2" in ev.description


def test_class_minimum_check_recounts_the_stored_labels_not_the_recorded_counts(tmp_path, monkeypatch):
    """Planted: the asset's class counting regresses (every class one sample more than labelled). The
    recorded counts pass the minimums on their own; the check recounts the stored per-sample labels and
    compares with the fits' confusion matrices, fails, and nothing is published."""
    from genebench_assets.science.categories import condition_prediction

    counted = condition_prediction.class_counts
    monkeypatch.setattr(condition_prediction, "class_counts", lambda y: {k: n + 1 for k, n in counted(y).items()})
    code, out, checks, published = _run(tmp_path, shared_path("genelab_release"), ["D4"])
    _assert_blocked(code, out, published)
    ev = checks["condition_class_minimums"]
    assert not ev.passed and "are not the stored labels'" in ev.description


@pytest.mark.slow
def test_later_runs_of_the_summary_readers_refuse_a_d_result_whose_class_check_failed(tmp_path, monkeypatch):
    """The same planted recount fault on D3, with every C task materialized (and passing) first, since the
    readers read C before D: a later, separate run of category_published_files / leakage_audit is refused
    on condition_prediction_pathway [D3], naming condition_class_minimums."""
    from genebench_assets.defs.categories.assets import C_TASKS, D_TASKS
    from genebench_assets.science.categories import condition_prediction

    counted = condition_prediction.class_counts
    monkeypatch.setattr(condition_prediction, "class_counts", lambda y: {k: n + 1 for k, n in counted(y).items()})
    code, out, checks, published = _run(tmp_path, shared_path("genelab_release"), [*C_TASKS, D_TASKS[0]],
                                        refused=("condition_prediction_pathway", D_TASKS[0], "condition_class_minimums"))
    _assert_blocked(code, out, published)
    assert not checks["condition_class_minimums"].passed


@pytest.mark.slow
def test_leakage_audit_shows_seed_and_strict_with_the_defect(reproduced):
    rows = {r["task"]: r for r in json.loads((reproduced / "data" / "categories" / "leakage_audit" / "all.json").read_text())["rows"]}
    d4 = rows["D4"]
    assert round(d4["seed"], 3) == 0.817 and round(d4["strict"], 3) == 0.761 and round(d4["difference"], 3) == -0.056
    # the whole move is the thymus rows'; the strain defect (both protocols use the names) costs nothing
    # (strict 0.76112 - seed 0.81720 = -0.0561 at 4 decimals)
    assert d4["moved_by"] == ["thymus_mhu1_rows"] and [s["delta"] for s in d4["steps"]] == [
        round(d4["strict"] - d4["seed"], 4), 0.0] and d4["remainder"] == 0.0
    assert d4["steps"][1]["evidence"]["n_relabelled"] == 3 and d4["strict_ci"] is not None
    assert rows["D6_thymus"]["defect"] is None and [round(v, 3) for v in rows["D6_thymus"]["strict_ci"]] == [0.277, 1.0]
    assert rows["C1 method C"]["difference"] == 0.0 and rows["C1 method C"]["defect"] is None
    assert rows["C1 method B"]["steps"][0]["evidence"]["published_n_shared_degs"] == 1132
    assert rows["NC1 A4 entry"]["steps"][0]["evidence"]["reachable_minimum_p"] == 0.0909
    assert rows["NES conservation vs B transfer"]["transfer_source"].startswith("B evaluation")
    for unmeasured in ("NC2", "A1-A6"):
        assert rows[unmeasured]["seed"] is None and rows[unmeasured]["defect"]
    with dg.DagsterInstance.from_config(str(reproduced / "home")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("leakage_audit"))
    assert "| D4 | macro_f1 | 0.817 | 0.761 |" in event.asset_materialization.metadata["audit"].value
    # written beside the published-layout files
    out = json.loads((reproduced / "out" / "leakage_audit.json").read_text())
    assert {r["task"] for r in out["rows"]} == set(rows) and (reproduced / "out" / "leakage_audit.md").is_file()


def test_reproduce_categories_without_a_release_says_so_in_one_line(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_DATA_DIR": str(tmp_path / "data"),
           "PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "reproduce", "categories", "--release",
                           str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    # Checked as an argument, before Dagster is imported: one line on stderr naming the option and the path.
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("genebench reproduce categories: argument --release:") and str(tmp_path / "nowhere") in line, line
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()
