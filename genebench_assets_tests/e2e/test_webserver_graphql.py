"""Issue 5, "The UI, for real" (GraphQL half): against the real webserver + daemon, materialize the
catalog, backfill one tissue's study partitions from raw counts to the evaluation, and check the
materializations, the blocking checks and the lineage metadata of the AUROCs.

Run: .venv/bin/pytest genebench_assets_tests/e2e -q -x   (server logs: <tmp>/dagster_e2e0/logs)"""

from __future__ import annotations

import re

import pytest

from genebench_assets_tests.e2e.conftest import (
    ABSENT_MISSION,
    BACKFILL_STUDY_ASSETS,
    BACKFILL_TISSUE_ASSETS,
    REAL_MISSIONS,
    STUDY_ASSETS,
    TISSUE,
    TISSUE_ASSETS,
    BackfillOutcome,
    study_key,
)
from genebench_assets_tests.e2e.graphql_client import DagsterGraphQL, metadata_dict

pytestmark = pytest.mark.slow

SHA256 = re.compile(r"^[0-9a-f]{64}$")
LEAKAGE_CHECKS = {  # defs/tasks/checks.py (issue 9 redesign)
    "leakage_no_animal_in_both_splits_by_name_stem", "leakage_no_raw_source_in_both_splits",
    "leakage_fold_missions_match_raw_files", "leakage_fitted_steps_saw_training_only",
    "leakage_feature_columns_trace_to_raw_counts", "leakage_no_expression_near_duplicates",
    "leakage_fold_labels_match_raw_group_strings",
}


def _catalog():
    from genebench_assets.science.osdr.study_catalog import load_catalog

    return load_catalog()


def _require_backfill(outcome: BackfillOutcome) -> None:
    if not outcome.ok:
        pytest.fail("the backfill did not succeed; first failures:\n" + outcome.diagnostics, pytrace=False)


def test_code_location_serves_the_asset_graph(gql: DagsterGraphQL):
    nodes = {"/".join(n["assetKey"]["path"]): n for n in gql.asset_nodes()}
    expected = ["osdr_catalog", "gene_sets", *STUDY_ASSETS, *TISSUE_ASSETS]
    assert not [a for a in expected if a not in nodes], f"missing assets; served: {sorted(nodes)}"
    for a in STUDY_ASSETS + TISSUE_ASSETS:
        assert nodes[a]["isPartitioned"], a
    checks = gql.asset_checks("lomo_folds")
    blocking = {c["name"] for c in checks if c["blocking"]}
    assert LEAKAGE_CHECKS <= blocking, f"blocking checks on lomo_folds: {sorted(blocking)}"


def test_catalog_registers_mission_partitions(gql: DagsterGraphQL, catalog_materialized: str):
    catalog = _catalog()
    missions = gql.dynamic_partitions("raw_counts", "mission")
    assert set(catalog.mission_names()) <= set(missions), missions
    assert set(REAL_MISSIONS) | {ABSENT_MISSION} <= set(missions)
    assert sorted(catalog.missions_for(TISSUE)) == sorted(REAL_MISSIONS), catalog.missions_for(TISSUE)
    assert not catalog.has_pair(TISSUE, ABSENT_MISSION)
    meta = gql.latest_metadata("osdr_catalog")
    assert meta["n_pairs"] == len(catalog.pairs())
    assert "gastrocnemius" in meta["real_pairs"]


def test_backfill_materializes_every_real_partition(gql: DagsterGraphQL, gastrocnemius_backfill: BackfillOutcome):
    _require_backfill(gastrocnemius_backfill)
    real = {study_key(TISSUE, m) for m in REAL_MISSIONS}
    for asset in BACKFILL_STUDY_ASSETS:
        got = gql.materialized_partitions(asset)
        assert real <= got, f"{asset}: materialized {sorted(got)}, expected at least {sorted(real)}"
        assert all(p.endswith(f"|{TISSUE}") for p in got), f"{asset}: partitions of another tissue: {sorted(got)}"
    for asset in BACKFILL_TISSUE_ASSETS:
        assert gql.materialized_partitions(asset) == {TISSUE}, asset
    # raw_counts recorded its raw files with their sha256 for every real pair.
    catalog = _catalog()
    for m in REAL_MISSIONS:
        prov = gql.latest_metadata("raw_counts", study_key(TISSUE, m))["provenance"]
        osds = {f["osd"] for f in prov["raw_files"]}
        assert osds == {s.osd for s in catalog.studies_for(TISSUE, m)}, (m, osds)
        assert all(SHA256.match(f["sha256"]) for f in prov["raw_files"]), prov["raw_files"]


def test_absent_pair_is_recorded_as_absent(gql: DagsterGraphQL, gastrocnemius_backfill: BackfillOutcome):
    """(gastrocnemius, MHU-1) is a valid multi-partition key but no study: asked to materialize it, the
    run succeeds and records it as absent (metadata `absent: ...`, no table; defs/runtime/partitions.py);
    assets not asked stay unrecorded. test_materialize_all.py runs "Materialize all" itself."""
    assert gastrocnemius_backfill.absent_run_status == "SUCCESS", gastrocnemius_backfill.absent_run_diagnostics
    absent = study_key(TISSUE, ABSENT_MISSION)
    meta = gql.latest_metadata("raw_counts", absent)
    assert meta["absent"].startswith(f"({TISSUE}, {ABSENT_MISSION}) is not a study in the catalog"), meta
    assert "provenance" not in meta and "sha256" not in meta, meta
    for asset in STUDY_ASSETS[1:]:
        assert gql.materializations(asset, [absent]) == [], f"{asset} recorded {absent} without being asked"


def test_blocking_checks_passed(gql: DagsterGraphQL, gastrocnemius_backfill: BackfillOutcome):
    _require_backfill(gastrocnemius_backfill)
    results: dict[str, str] = {}
    for check in gql.asset_checks("lomo_folds"):
        if not check["blocking"]:
            continue
        execs = gql.check_executions("lomo_folds", check["name"], partition=TISSUE, limit=1)
        assert execs, f"no execution of {check['name']} for {TISSUE}"
        ev = execs[0]
        results[check["name"]] = ev["status"]
        assert ev["status"] == "SUCCEEDED" and ev["evaluation"]["success"], (
            f"{check['name']} [{TISSUE}]: {ev['status']} {ev['evaluation'] and ev['evaluation']['description']}\n"
            f"{metadata_dict(ev['evaluation']['metadataEntries']) if ev['evaluation'] else ''}")
    assert LEAKAGE_CHECKS <= set(results), results
    # The blocking source checks passed for every real pair too.
    for asset in ("raw_counts", "sample_metadata"):
        for check in gql.asset_checks(asset):
            if not check["blocking"]:
                continue
            for m in REAL_MISSIONS:
                execs = gql.check_executions(asset, check["name"], partition=study_key(TISSUE, m), limit=1)
                assert execs and execs[0]["status"] == "SUCCEEDED", (asset, check["name"], m, execs[:1])


def test_evaluation_lineage_names_raw_files_with_sha256(gql: DagsterGraphQL, gastrocnemius_backfill: BackfillOutcome):
    _require_backfill(gastrocnemius_backfill)
    meta = gql.latest_metadata("evaluation_summary", TISSUE)

    aurocs = {k: v for k, v in meta.items() if k.startswith("auroc_")}
    assert aurocs, f"no auroc_* metadata; labels: {sorted(meta)}"
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in aurocs.values()), aurocs

    prov = meta["provenance"]
    raw_files = prov["raw_files"]
    catalog = _catalog()
    expected_osds = {s.osd for m in REAL_MISSIONS for s in catalog.studies_for(TISSUE, m)}
    assert {f["osd"] for f in raw_files} == expected_osds, raw_files
    for f in raw_files:
        assert f["file_name"], f
        assert SHA256.match(f["sha256"]), f
    assert {u["asset"] for u in prov["upstream"]} >= {"model_predictions", "lomo_folds"}, prov["upstream"]

    # The same files (same sha256) as raw_counts recorded when it fetched them.
    fetched = {(f["osd"], f["file_name"], f["sha256"])
               for m in REAL_MISSIONS
               for f in gql.latest_metadata("raw_counts", study_key(TISSUE, m))["provenance"]["raw_files"]}
    assert {(f["osd"], f["file_name"], f["sha256"]) for f in raw_files} == fetched

    lineage = meta["lineage"]
    assert "sha256" in lineage
    for f in raw_files:
        assert f["osd"] in lineage and f["file_name"] in lineage and f["sha256"][:16] in lineage, (
            f"lineage markdown does not name {f['osd']} {f['file_name']} {f['sha256'][:16]}:\n{lineage}")
    for m in REAL_MISSIONS:
        assert m in lineage, f"lineage does not name mission {m}"


def test_llm_replay_from_the_ui_runs_every_model_in_one_run(gql: DagsterGraphQL, dagster_e2e):
    """Issue 13: the LLM leaderboard from the UI. The bank registers the nine stored models as
    partitions; a backfill of every model's answers and judge scores plus the leaderboard (what
    "Materialize all" on llm_replay_job's page launches) runs all models in ONE run (single-run
    backfill policy), keeps one materialization and one check result per model, and ends green."""
    from genebench_assets.science.llm.replay import discover_stored_runs
    from genebench_assets_tests.conftest import shared_path

    stored = set(discover_stored_runs(shared_path("spaceomicsbench", "llm", "results")))
    assert "llm_replay_job" in {j["name"] for j in gql.query(
        "query { repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
    )["repositoriesOrError"]["nodes"][0]["jobs"]}
    bank = gql.launch_run(assets=["llm_question_bank"])
    info = gql.wait_for_run(bank, check=dagster_e2e.check_alive)
    assert info.status == "SUCCESS", gql.describe_runs([bank])
    models = gql.partition_keys("llm_answers")
    assert set(models) == stored, models

    backfill_id = gql.launch_backfill(assets=["llm_answers", "llm_judge_scores", "llm_leaderboard"],
                                      partition_names=models, title="e2e: LLM replay")
    bf = gql.wait_for_backfill(backfill_id, check=dagster_e2e.check_alive)
    assert bf["status"] == "COMPLETED_SUCCESS", gql.describe_runs(r["runId"] for r in bf["runs"])
    assert all(r["status"] == "SUCCESS" for r in bf["runs"]), gql.describe_runs(r["runId"] for r in bf["runs"])
    ranged = [r for r in bf["runs"] if any(t["key"] == "dagster/asset_partition_range_start" for t in r["tags"])]
    assert len(ranged) == 1, f"expected one run for all {len(models)} models; runs: {bf['runs']}"
    assert len(bf["runs"]) <= 2, bf["runs"]  # the ranged run, and the leaderboard's if not in it
    for asset in ("llm_answers", "llm_judge_scores"):
        assert gql.materialized_partitions(asset) == stored, asset
    for m in models:
        ex = gql.check_executions("llm_judge_scores", "llm_weighted_scores_recomputed", partition=m, limit=1)
        assert ex and ex[0]["evaluation"]["success"], (m, ex[:1])
    board = gql.latest_metadata("llm_leaderboard")
    assert board["n_models"] == len(stored)
