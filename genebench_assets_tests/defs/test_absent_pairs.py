"""Absent (tissue, mission) pairs through the real graph (issue 13, "Materialize all"): every per-study
asset records an absent pair explicitly (data version "absent", metadata saying why, no table),
every check of a per-study asset passes with nothing to check, and nothing downstream takes the
record for a study (defs/runtime/partitions.py)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from genebench_assets.definitions import defs
from genebench_assets.defs.runtime.partitions import study_partitions
from genebench_assets.defs.gating.study_partition import ABSENT_DATA_VERSION, is_absent_materialization
from genebench_assets.defs.gating.study_promotion import verify_study
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized

TISSUE, ABSENT = "gastrocnemius", "MHU-1"  # MHU-1 is a mission of the catalog, not of gastrocnemius


def per_study_assets() -> list[str]:
    graph = defs.resolve_asset_graph()
    return sorted(k.to_user_string() for k in graph.materializable_asset_keys
                  if graph.get(k).partitions_def == study_partitions)


def per_study_checks() -> set[str]:
    names = set(per_study_assets())
    return {spec.name for c in defs.asset_checks or [] for spec in c.check_specs
            if spec.asset_key.to_user_string() in names}


def files_under(data_dir: Path) -> set[str]:
    return {str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def absent_run(tmp_path_factory):
    g = DemoGraph(tmp_path_factory.mktemp("absent") / "data")
    assert g.catalog().success  # registers the mission partitions
    before = files_under(g.data_dir)
    result = g.study(TISSUE, ABSENT, keys=per_study_assets())
    return g, result, before


def test_every_per_study_asset_is_a_known_one():
    # If a per-study asset is added, it must get the absent branch (and this list, the e2e's, the docs).
    assert per_study_assets() == sorted(["raw_counts", "sample_metadata", "normalized_expression", "pathway_scores",
                                         "differential_expression", "pathway_nes", "dge_pipeline_tables"])


def test_absent_pair_is_recorded_as_absent_without_a_table(absent_run):
    g, result, before = absent_run
    assert result.success
    assert sorted(materialized(result)) == per_study_assets()
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        assert is_absent_materialization(mat), mat
        assert mat.tags["dagster/data_version"] == ABSENT_DATA_VERSION
        assert mat.metadata["absent"].value.startswith(f"({TISSUE}, {ABSENT}) is not a study in the catalog")
        assert mat.metadata[f"missions_with_{TISSUE}_studies"].value == "RR-1, RR-5, RR-9"
    # No table, no json, no cache: nothing at all is written for an absent pair.
    assert files_under(g.data_dir) == before
    assert not any(ABSENT in f for f in files_under(g.data_dir))


def test_every_check_of_a_per_study_asset_passes_on_an_absent_pair(absent_run):
    _, result, _ = absent_run
    checks = check_results(result)
    assert set(checks) == per_study_checks() and len(checks) == 6, checks
    assert all(checks.values()), checks
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_CHECK_EVALUATION":
            meta = ev.event_specific_data.metadata
            assert "nothing to check" in meta["compared"].value and meta["absent"].value is True


def test_recording_again_keeps_the_data_version_and_nothing_turns_stale(absent_run):
    g, _, _ = absent_run
    again = g.study(TISSUE, ABSENT, keys=["raw_counts", "sample_metadata"])
    assert again.success
    from genebench_assets.defs.lineage.tracing import stale_partitions

    pk = str(dg.MultiPartitionKey({"tissue": TISSUE, "mission": ABSENT}))
    status = stale_partitions(g.instance, defs)
    for asset in per_study_assets():
        assert status[asset][pk] == "FRESH", (asset, status[asset][pk])


def test_promotion_never_takes_an_absent_record_for_a_study(absent_run):
    """Study promotion reads the catalog's pairs only; asked about an absent pair anyway it finds no
    table (the record is not a study) instead of verifying it."""
    g, _, _ = absent_run
    verdict = verify_study(g.instance, TableStore(g.data_dir), TISSUE, ABSENT)
    assert not verdict.ok
    assert any("file is gone" in p or "never materialized" in p for p in verdict.problems), verdict.problems
    assert not g.settings.catalog().has_pair(TISSUE, ABSENT)


def test_a_real_pair_still_fails_loudly_when_it_yields_nothing(tmp_path, monkeypatch):
    """output_required is on: a real pair whose body records nothing is a failed step, never a silent
    gap (the absent branch is the only way to skip the table)."""
    import genebench_assets.defs.sources.assets as source_assets

    g = DemoGraph(tmp_path / "data")
    assert g.catalog().success

    class Broken:
        @staticmethod
        def open(context, settings):
            return None  # takes the absent branch...

    monkeypatch.setattr(source_assets, "absent_results", lambda context, settings: [])  # ...that records nothing
    monkeypatch.setattr(source_assets, "StudyPartition", Broken)
    result = g.study(TISSUE, "RR-1", keys=["raw_counts"])
    assert not result.success
    assert materialized(result) == []
