"""Partitions: tissue (static) x mission (dynamic), and tissue alone for tissue-level assets.

Absent pairs. Dagster's multi-partitions are the full cartesian product, so (liver, MHU-1) is a valid
key although no such study exists. Every per-study asset *records* an absent pair explicitly:

(a) Asked to materialize an absent pair, a per-study asset yields `study_partition.absent_results`:
    a materialization with data version ``"absent"``, metadata ``absent: (liver, MHU-1) is not a
    study in the catalog: no table written; ...`` and no table; every check of a per-study asset
    passes with "nothing to check" (check_results.skipped_absent). Nothing absent is ever counted as
    a study: tissue-level assets and study promotion read only the pairs the catalog lists, never
    the event log's partitions, and `genebench lineage` follows recorded provenance, which never
    names an absent pair.
(b) The UI: every partition turns green after "Materialize all" (a backfill of every partition),
    so an absent pair is never shown as missing work; selecting one shows the ``absent`` metadata
    and data version ``absent``, and every per-study asset's description says what absent means
    and lists the real pairs (``osdr_catalog``'s metadata renders the same tissue x mission grid).
(c) Automation: tissue-level assets use ``study_rollup_condition`` below: it does not wait for
    *all* upstream partitions (a pair not yet recorded must not stall a tissue), and an upstream
    partition whose new materialization is an absent record (``RecordedAsAbsent``, a custom
    condition, so the automation sensor runs in the code server) does not count as an update: the
    refresh sensor records a new mission's absent pairs and only the tissues that have a study in
    it re-run. Re-recording an absent pair keeps data version "absent": nothing turns stale.

Why a backfill over *all* partitions needs (a) (verified against dagster 1.13.27,
``_core/execution/asset_backfill.py``): a child partition is requested only once every targeted
parent partition is in the backfill's ``materialized_subset`` (``_should_backfill_atomic_asset_subset_unit``),
which is built from ASSET_MATERIALIZATION events of the backfill's runs only
(``get_asset_backfill_iteration_materialized_subset``); a run that succeeds without materializing
leaves its partitions with no status (``_get_failed_asset_graph_subset`` looks at failed/canceled
runs only). Every tissue has absent pairs, so under ``by_tissue`` every tissue partition waits;
once all runs are done ``_backfill_is_stalled`` marks the no-status partitions and everything
downstream failed and the backfill ends COMPLETED_FAILED with no tissue asset run. That is what
happened before (a), when absent pairs returned no output. Observations would not help (only
materializations count), so the record must be a materialization. Shown end to end (real webserver +
daemon, `launchPartitionBackfill` with all partitions, COMPLETED_SUCCESS, zero failed partitions) by
genebench_assets_tests/e2e/test_materialize_all.py; through the graph by defs/test_absent_pairs.py.

Designs not taken: a study-keyed dynamic dimension (``liver|RR-1``) makes the partition space exactly
the real studies, but no serializable mapping takes a dynamic study key to its static tissue
(StaticPartitionMapping needs static partitions on both sides; a custom PartitionMapping is not
serialized to the webserver/daemon), so tissue assets could only use AllPartitionMapping: every
study update would make every tissue stale and automation would rerun all tissues, and "partitioned
by tissue and mission" would disappear from the UI. Re-partitioning tissue assets by (tissue, mission)
has the same lineage loss. Backfilling only the real pairs works but is not what "Materialize all" does.

The catalog the partitions are built from: GENEBENCH_CATALOG (a catalog YAML path; empty: the packaged
GeneLab benchmark v1 catalog) - the same file GenebenchSettings.catalog_path defaults to, so the
tissue dimension and the studies the assets read always come from one catalog.
"""

from __future__ import annotations

import os

import dagster as dg

from genebench_assets.science.markdown_tables import markdown_table
from genebench_assets.science.osdr.study_catalog import CatalogError, StudyCatalog, load_catalog

# A bad GENEBENCH_CATALOG is not a traceback at import: the error is kept (CATALOG_ERROR, one line naming
# file, field and value), the tissue dimension is empty, `definitions.py` raises it as the code
# location's load error and the `genebench` commands report it in one line, exit 2.
try:
    CATALOG = load_catalog(os.environ.get("GENEBENCH_CATALOG") or None)
    CATALOG_ERROR: CatalogError | None = None
except CatalogError as _exc:
    CATALOG = StudyCatalog(studies=(), excluded=(), missions={}, tissues=(), task_ids={},
                           source=os.environ.get("GENEBENCH_CATALOG", ""))
    CATALOG_ERROR = _exc

tissue_partitions = dg.StaticPartitionsDefinition(list(CATALOG.tissues))
mission_partitions = dg.DynamicPartitionsDefinition(name="mission")
study_partitions = dg.MultiPartitionsDefinition({"tissue": tissue_partitions, "mission": mission_partitions})

# A tissue-level asset reads every (tissue, *) partition of a per-study asset.
by_tissue = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="tissue")


def pair_of(context: dg.AssetExecutionContext) -> tuple[str, str]:
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        key = study_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return dims["tissue"], dims["mission"]


def real_pairs_markdown(catalog: StudyCatalog) -> str:
    missions = catalog.mission_names()
    rows = []
    for t in catalog.tissues:
        cells = []
        for m in missions:
            osds = [s.osd for s in catalog.studies_for(t, m)]
            cells.append(" + ".join(osds) if osds else "·")
        rows.append([t, *cells])
    return markdown_table(["tissue", *missions], rows)


# Run tag of the runs that only record absent pairs (the refresh sensor's): tells them apart in the
# runs list. Automation does not rely on it (RecordedAsAbsent reads the records themselves).
ABSENT_PAIR_RUN_TAG = "genebench/absent_pair"


class RecordedAsAbsent(dg.AutomationCondition):
    """True for the partitions of a per-study asset whose latest materialization is an absent pair's
    record (data version "absent", study_partition.absent_results). A custom condition: the built-in
    executed_with_tags() looks only at an asset's single latest materialization, whatever its
    partition, so it cannot tell the records of many partitions apart. Evaluated in the code server
    (the automation sensor has use_user_code_server=True), on the few partitions just updated."""

    @property
    def name(self) -> str:
        return "recorded_as_absent"

    def evaluate(self, context):
        from genebench_assets.defs.runtime.dagster_internals import AssetKeyPartitionKey

        candidates = context.candidate_subset
        if candidates.is_empty or not isinstance(context.key, dg.AssetKey) or not candidates.is_partitioned:
            return dg.AutomationResult(context=context, true_subset=context.get_empty_subset())
        view = context.asset_graph_view
        tags = view.instance.event_log_storage.get_latest_tags_by_partition(
            context.key, dg.DagsterEventType.ASSET_MATERIALIZATION, tag_keys=["dagster/data_version"],
            asset_partitions=sorted(candidates.expensively_compute_partition_keys()))
        absent = {AssetKeyPartitionKey(context.key, pk) for pk, t in tags.items()
                  if t.get("dagster/data_version") == "absent"}
        return dg.AutomationResult(context=context,
                                   true_subset=view.get_asset_subset_from_asset_partitions(context.key, absent))


def deps_updated_by_a_study() -> dg.AutomationCondition:
    """any_deps_updated(), except upstream partitions whose new materialization is an absent pair's
    record: recording (liver, RR-10) as absent is no reason to re-run liver."""
    return dg.AutomationCondition.any_deps_match(
        (
            dg.AutomationCondition.newly_updated()
            & ~dg.AutomationCondition.executed_with_root_target()
            & ~RecordedAsAbsent()
        ).with_label("newly_updated_without_root_or_absent_record")
        | dg.AutomationCondition.will_be_requested()
    ).with_label("any_deps_updated (absent-pair records ignored)")


def study_rollup_condition() -> dg.AutomationCondition:
    """Like eager(), but does not wait for every (tissue, mission) pair to be recorded, and ignores the
    records of absent pairs (see (c) above)."""
    return (
        dg.AutomationCondition.in_latest_time_window()
        & (dg.AutomationCondition.newly_missing() | deps_updated_by_a_study()).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("eager over real studies")
