"""`genebench materialize --categories` as a user runs it (a subprocess, its own DAGSTER_HOME and data
dir) on a small catalog (gastrocnemius RR-1/RR-9, eye RR-1/RR-3; demo mirror, 6,000 genes), for one
tissue: after the benchmark path it runs Category B and the negative controls for the tissue, then NES vs
transfer over the catalog's tissues, all recorded in the instance. (B on pathway features through the
graph: test_transfer_graph.py; genes only here, to keep the test short.)"""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest

from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.conftest import shared_path
from genebench_assets_tests.defs.transfer.test_nes_vs_transfer_graph import small_catalog

pytestmark = pytest.mark.slow
STUDIES = {("gastrocnemius", "RR-1"), ("gastrocnemius", "RR-9"), ("eye", "RR-1"), ("eye", "RR-3")}
TISSUES = ["gastrocnemius", "eye"]


@pytest.fixture(scope="module")
def run_categories(tmp_path_factory):
    shared_path("gene_sets", "housekeeping_mouse_58.txt")  # NC2's list: skips with the reason when absent
    root = tmp_path_factory.mktemp("materialize_categories")
    catalog = small_catalog(root / "catalog.yaml", STUDIES, TISSUES)
    mirror = root / "mirror"
    write_demo_mirror(mirror, load_catalog(str(catalog)), seed=42, n_genes=6000)
    env = {**os.environ, "DAGSTER_HOME": str(root / "home"), "GENEBENCH_DATA_DIR": str(root / "data"),
           "GENEBENCH_CATALOG": str(catalog), "GENEBENCH_SOURCE": "mirror", "GENEBENCH_MIRROR": str(mirror),
           "GENEBENCH_GENE_SETS": f"demo={mirror / 'gene_sets' / 'demo_pathways.gmt'}",
           "GENEBENCH_SYMBOL_MAP": str(mirror / "gene_sets" / "demo_symbol_map.csv"),
           "GENEBENCH_MODELS": "negative_control", "GENEBENCH_FEATURE_SETS": "genes",
           "GENEBENCH_NC1_PERMUTATIONS": "5", "GENEBENCH_JOBS": "1"}
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", "materialize", "--categories", "--tissue", "gastrocnemius"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=900)
    return proc, root


def test_categories_flag_runs_b_controls_and_nes_vs_transfer(run_categories):
    proc, root = run_categories
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "ok  transfer_tissue_job gastrocnemius" in proc.stdout, proc.stdout
    assert "ok  transfer_summary_job NES vs transfer" in proc.stdout, proc.stdout
    assert "[7/7]" in proc.stdout, proc.stdout  # 1 catalog + 2 studies + 1 tissue + 1 transfer + 1 summary + leaderboards
    store = TableStore(root / "data", protocol="strict", protocol_assets=["transfer_evaluation", "negative_controls",
                                                                          "nes_conservation_vs_b_transfer"])
    rows = store.read_json("transfer_evaluation", "gastrocnemius")
    assert {(r["feature_set"], r["model"]) for r in rows} == {("genes", "pca_lr"), ("genes", "lfc_direction")}
    assert all(r["n_pairs"] == 2 for r in rows)
    assert store.read_json("negative_controls", "gastrocnemius")["nc1"]["n_permutations_per_fold"] == 5
    assert not store.exists("transfer_evaluation", "eye", ext="json")
    doc = store.read_json("nes_conservation_vs_b_transfer")
    # --nes was not given and eye was not run: every tissue is listed with what it lacks, no correlation made up
    assert doc["rank_correlation"]["n"] == 0 and doc["rank_correlation"]["rho"] is None
    assert doc["rank_correlation"]["excluded"] == {"gastrocnemius": "no NES conservation",
                                                   "eye": "no NES conservation and no transfer AUROC"}
    assert [r["tissue"] for r in doc["tissues"]] == TISSUES
    # recorded in the instance: visible in the UI
    instance = dg.DagsterInstance.from_config(str(root / "home"))
    try:
        for key in ("transfer_evaluation", "negative_controls", "nes_conservation_vs_b_transfer"):
            assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key
    finally:
        instance.dispose()
