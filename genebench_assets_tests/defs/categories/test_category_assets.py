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
    assert "MHU-2_gsva" in d["D4"]["defect"]
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


def _run(tmp_path: Path, release: Path, partitions: list[str]):
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
    return code, out, checks, published


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

    code, out, checks, published = _run(tmp_path, release, ["C1"])
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

    code, out, checks, published = _run(tmp_path, release, ["C1"])
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


@pytest.mark.slow
def test_leakage_audit_shows_seed_and_strict_with_the_defect(reproduced):
    rows = {r["task"]: r for r in json.loads((reproduced / "data" / "categories" / "leakage_audit" / "all.json").read_text())["rows"]}
    d4 = rows["D4"]
    assert round(d4["seed"], 3) == 0.817 and round(d4["strict"], 3) == 0.761 and round(d4["difference"], 3) == -0.056
    assert "defect 2" in d4["defect"] and "defect 3" in d4["defect"]
    assert rows["C1 method C"]["difference"] == 0.0 and rows["C1 method C"]["defect"] is None
    for unmeasured in ("C1-C4 method B", "NC1", "NC2", "A1-A6"):
        assert rows[unmeasured]["seed"] is None and rows[unmeasured]["defect"]
    with dg.DagsterInstance.from_config(str(reproduced / "home")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("leakage_audit"))
    assert "| D4 | macro_f1 | 0.817 | 0.761 |" in event.asset_materialization.metadata["audit"].value


def test_reproduce_categories_without_a_release_says_so_in_one_line(tmp_path):
    env = {"DAGSTER_HOME": str(tmp_path / "home"), "GENEBENCH_DATA_DIR": str(tmp_path / "data"),
           "PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "reproduce", "categories", "--release",
                           str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout.strip().splitlines()[-1] == (f"genebench reproduce categories: GeneLab release not found: "
                                                    f"{tmp_path / 'nowhere'} has no tasks/ folder")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()
