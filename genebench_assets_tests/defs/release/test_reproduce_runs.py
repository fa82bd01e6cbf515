"""`genebench reproduce pathway-lomo` in as few Dagster runs as the partition space allows, without
losing what one run per partition gave: every (tissue, collection) partition has its own
materialization of each release asset, its own metadata (table sha256, provenance naming its own
partition and the files it came from), lineage from its AUROC down to the release files, and the
published numbers exactly."""

from __future__ import annotations

import concurrent.futures
import json

import dagster as dg
import pytest

from genebench_assets.defs.lineage.tracing import latest_materialization, lineage_from_instance
from genebench_assets.defs.release.reproduce import partition_ranges, release_definitions, reproduce_pathway_lomo
from genebench_assets.science.models.fit_pool import worker_pool
from genebench_assets.science.release import worker_modules
from genebench_assets.science.release.pathway_lomo import compare_to_published, result_filename
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.conftest import REPO_ROOT, shared_path

FIXTURES = REPO_ROOT / "genebench_assets_tests" / "fixtures" / "published_pathway_results"
ASSETS = ("release_fold_features", "release_predictions", "release_evaluation")


def test_ranges_are_rectangles_in_partition_order():
    everything = partition_ranges(["hallmark", "kegg", "reactome", "mitocarta"],
                                  ["liver", "gastrocnemius", "kidney", "thymus", "skin", "eye"])
    assert [(str(a), str(b)) for a, b in everything] == [("hallmark|liver", "mitocarta|eye")]
    # kegg and mitocarta are not neighbours, nor are kidney and eye: 2 x 2 runs, none covering extra keys
    split = partition_ranges(["mitocarta", "kegg"], ["eye", "kidney"])
    assert sorted((str(a), str(b)) for a, b in split) == sorted([
        ("kegg|kidney", "kegg|kidney"), ("kegg|eye", "kegg|eye"),
        ("mitocarta|kidney", "mitocarta|kidney"), ("mitocarta|eye", "mitocarta|eye")])


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """hallmark + kegg (neighbours) x gastrocnemius..thymus + eye: 2 runs for 8 partitions, as the command
    runs them: every step of both runs on the one pool of workers started before (counted here)."""
    release = shared_path("genelab_release")
    work = tmp_path_factory.mktemp("reproduce_runs")
    instance = dg.DagsterInstance.ephemeral()
    pools = []

    class Counted(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super().__init__(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setenv("GENEBENCH_DATA_DIR", str(work / "data"))
    mp.setattr(concurrent.futures, "ProcessPoolExecutor", Counted)
    try:
        with worker_pool(2, preload=worker_modules()) as workers:
            code = reproduce_pathway_lomo(instance, release_definitions(), release=release, db=["kegg", "hallmark"],
                                          out=work / "out", tissues=["eye", "gastrocnemius", "kidney", "thymus"],
                                          workers=workers)
    finally:
        mp.undo()
    return code, instance, work, len(pools)


def test_every_step_of_every_run_uses_the_workers_started_before(reproduced):
    assert reproduced[3] == 1


def test_without_workers_one_partition_runs_in_process_with_the_same_numbers(tmp_path, monkeypatch):
    """The UI / `dg launch` path: no workers given; a single small partition starts none."""
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    started = []
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", lambda *a, **k: started.append(1))
    code = reproduce_pathway_lomo(dg.DagsterInstance.ephemeral(), release_definitions(), release=shared_path("genelab_release"),
                                  db="hallmark", out=tmp_path / "out", tissues=["eye"])
    assert code == 0 and started == []
    name = result_filename("eye", "hallmark")
    ours = json.loads((tmp_path / "out" / name).read_text())
    assert compare_to_published(ours, json.loads((FIXTURES / name).read_text())) == []


def test_two_runs_for_two_rectangles(reproduced):
    code, instance, _, _ = reproduced
    assert code == 0
    runs = instance.get_runs()
    assert len(runs) == 2
    ranges = sorted((r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in runs)
    assert ranges == [("hallmark|eye", "kegg|eye"), ("hallmark|gastrocnemius", "kegg|thymus")]


@pytest.mark.parametrize("tissue", ["gastrocnemius", "kidney", "thymus", "eye"])
@pytest.mark.parametrize("db", ["hallmark", "kegg"])
def test_every_partition_has_its_own_materializations_and_provenance(reproduced, tissue, db):
    _, instance, work, _ = reproduced
    store = TableStore(work / "data")
    part = f"{tissue}|{db}"
    for asset in ASSETS:
        record = latest_materialization(instance, asset, part)
        assert record is not None, f"{asset} {part} not materialized"
        meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
        table = {"release_fold_features": ("index", "json"), "release_predictions": (None, "parquet"),
                 "release_evaluation": (None, "json")}[asset]
        parts = (part, table[0]) if table[0] else (part,)
        assert meta["table_sha256"] == store.sha256(asset, *parts, ext=table[1])
        prov = meta["provenance"]
        assert {u["partition"] for u in prov["upstream"]} <= {part}
        # the raw files are this partition's: its tissue's folder, its collection's GSVA files
        gsva = [f["file_name"] for f in prov["raw_files"] if "gsva" in f["file_name"]]
        assert gsva and all(f"/{tissue}/" in f and f.endswith(f"_gsva_{db}.csv") for f in gsva)


@pytest.mark.parametrize("tissue", ["gastrocnemius", "kidney", "thymus", "eye"])
@pytest.mark.parametrize("db", ["hallmark", "kegg"])
def test_published_numbers_exactly(reproduced, tissue, db):
    _, _, work, _ = reproduced
    name = result_filename(tissue, db)
    ours = json.loads((work / "out" / name).read_text())
    assert compare_to_published(ours, json.loads((FIXTURES / name).read_text())) == []


def test_lineage_of_a_partition_in_a_range_run_has_no_false_drift(reproduced):
    _, instance, _, _ = reproduced
    chain = lineage_from_instance(instance, tissue="kidney|kegg", model="lr", evaluation_asset="release_evaluation")
    assert [s["asset"] for s in chain["steps"]] == ["release_predictions", "release_fold_features"]
    for step in chain["steps"]:
        # what the downstream partition recorded reading = what Dagster recorded for that partition
        assert step["recorded_data_version"] == step["data_version"]
    assert any(f["file_name"] == "processed/pathway_scores/kidney/RR-1_gsva_kegg.csv" for f in chain["raw_files"])


def test_nothing_outside_the_requested_partitions(reproduced):
    _, instance, work, _ = reproduced
    assert latest_materialization(instance, "release_evaluation", "liver|hallmark") is None
    assert latest_materialization(instance, "release_evaluation", "kidney|reactome") is None
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(
        result_filename(t, d) for t in ("gastrocnemius", "kidney", "thymus", "eye") for d in ("hallmark", "kegg"))
