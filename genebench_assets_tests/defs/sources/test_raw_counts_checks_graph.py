"""raw_counts_unique_sample_ids and raw_counts_nonnegative_integers through the real graph (issue 19,
item 5). A bad raw file never reaches them (the parser and the write contract refuse it first), so they
check the stored tables as they are on disk: planted here by writing the stored tables by hand (a
negative and a fractional count, a duplicated sample id) after a good materialization. Both checks fail,
and afterwards nothing downstream of the study exists: normalized_expression is refused, no table."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.definitions import defs
from genebench_assets.science.storage.atomic_files import write_parquet
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSION = "gastrocnemius", "RR-9"
CHECKS = ("raw_counts_unique_sample_ids", "raw_counts_nonnegative_integers")


def _run_checks(g: DemoGraph, partition) -> dict[str, bool]:
    key = dg.AssetKey("raw_counts")
    checks = [c for c in defs.asset_checks if any(k.asset_key == key for k in c.check_keys)]
    selection = dg.AssetSelection.checks(*[dg.AssetCheckKey(key, name) for name in CHECKS])
    owner = [a for a in defs.assets if key in a.keys]  # the partitioned asset whose checks run alone
    # a checks-only run of one partition (Dagster infers a run's partitions from its assets, and none is
    # selected here): the partition is given as the run's partition tags, as the UI's launcher does
    job = dg.define_asset_job("raw_counts_checks", selection=selection)
    tags = {"dagster/partition": str(partition), **{f"dagster/partition/{d}": k for d, k in partition.keys_by_dimension.items()}}
    result = dg.Definitions(assets=owner, asset_checks=checks, jobs=[job], resources=g.resources).resolve_job_def(
        "raw_counts_checks").execute_in_process(tags=tags, instance=g.instance, raise_on_error=False)
    assert not materialized(result)
    return check_results(result)


def test_a_hand_edited_stored_table_fails_both_checks_and_blocks_the_study(tmp_path):
    g = DemoGraph(tmp_path / "data")
    assert g.catalog().success
    partition = dg.MultiPartitionKey({"tissue": TISSUE, "mission": MISSION})
    assert g.study(TISSUE, MISSION, ["raw_counts", "sample_metadata"]).success
    assert _run_checks(g, partition) == {name: True for name in CHECKS}

    store = TableStore(g.settings.data_dir)
    counts = store.read_frame("raw_counts", TISSUE, MISSION).astype("float64")
    counts.iloc[0, 0], counts.iloc[1, 1] = -3.0, 2.5
    write_parquet(counts, store.path("raw_counts", TISSUE, MISSION))  # by hand: no contract on this write
    samples = store.read_frame("raw_samples", TISSUE, MISSION)
    samples = samples.rename(index={samples.index[1]: samples.index[0]})
    write_parquet(samples, store.path("raw_samples", TISSUE, MISSION))

    assert _run_checks(g, partition) == {name: False for name in CHECKS}
    result = g.study(TISSUE, MISSION, ["normalized_expression"])
    assert not result.success and "normalized_expression" not in materialized(result)
    assert not store.exists("normalized_expression", TISSUE, MISSION)
    assert g.instance.get_latest_materialization_event(dg.AssetKey("normalized_expression")) is None
