"""Partitions: tissue (static) x mission (dynamic), and tissue alone for tissue-level assets.

Absent pairs. Dagster's multi-partitions are the full cartesian product, so (liver, MHU-1) is a valid
key although no such study exists. We treat absent pairs this way:

(a) Nothing absent is ever counted as a study: per-study assets asked to materialize an absent pair
    log "not in catalog" and emit no output (``output_required=False``), so the partition stays
    *missing*; tissue-level assets read only the pairs the catalog lists.
(b) The UI makes clear which pairs are real: real pairs turn green once materialized and absent
    pairs stay grey forever; every per-study asset's description lists the real pairs, and
    ``osdr_catalog``'s metadata renders the tissue x mission grid.
(c) Automation does not stall: tissue-level assets use ``study_rollup_condition`` below, which
    does not wait for *all* upstream partitions to exist (absent pairs never will), and the asset
    itself fails with a clear message when a *real* pair is missing.

Why a UI backfill over *all* partitions fails today (dagster 1.13, execution/asset_backfill.py): the
runs of absent pairs succeed without materializing; the backfill counts only failed/canceled runs as
failed, so those partitions keep "no status"; their children (the next per-study asset, and every
tissue partition through ``by_tissue``) wait for them; once all runs are done the daemon finds the
backfill stalled, marks the no-status partitions *and everything downstream* failed, and ends
COMPLETED_FAILED. Every tissue has absent pairs, so no tissue asset runs.

Two designs fix it (issue 13); neither is in place yet:
- absent pairs emit an explicit materialization (``data_version="absent"``, metadata ``absent: not a
  study in the catalog``, no table written): the backfill completes, nothing is missing or failed,
  tissue partitions keep their precise ``by_tissue`` lineage. Needs one line in every per-study asset
  body (``if study is None: yield <absent result>``) and per-study checks that pass on absent pairs.
- a study-keyed dynamic dimension (``liver|RR-1``): the partition space is exactly the real studies,
  but no serializable mapping takes a dynamic study key to its static tissue
  (StaticPartitionMapping needs static partitions on both sides; a custom PartitionMapping is not
  serialized to the webserver/daemon), so tissue assets could only use AllPartitionMapping: every
  study update would make every tissue stale and the automation would rerun all tissues.
"""

from __future__ import annotations

import dagster as dg

from genebench_assets.science.osdr.study_catalog import StudyCatalog, load_catalog

CATALOG = load_catalog()

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
    lines = ["| tissue | " + " | ".join(missions) + " |", "|---|" + "---|" * len(missions)]
    for t in catalog.tissues:
        cells = []
        for m in missions:
            osds = [s.osd for s in catalog.studies_for(t, m)]
            cells.append(" + ".join(osds) if osds else "·")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def study_rollup_condition() -> dg.AutomationCondition:
    """Like eager(), but does not wait for absent (tissue, mission) pairs, which never materialize."""
    return (
        dg.AutomationCondition.in_latest_time_window()
        & (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("eager over real studies")
