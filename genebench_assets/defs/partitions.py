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
