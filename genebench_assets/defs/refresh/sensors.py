"""Refresh when OSDR adds missions (issue 5).

`osdr_new_studies_sensor` polls the configured source for studies the catalog does not know. A study
that can be placed is added to the run-time catalog (`catalog_additions.json`), its mission becomes a
dynamic partition, and runs are requested for the new (tissue, mission) pairs, and for the new mission's
absent pairs their "absent" records (automation ignores those; defs/runtime/partitions.py); tissue-level assets
follow through declarative automation (`genebench_automation`), only for the tissue concerned, and a
failed blocking check stops the propagation. A study that cannot be placed is reported in the tick and
listed as pending in `osdr_catalog`. A weekly schedule re-checks everything as a safety net."""


import dagster as dg

from genebench_assets.defs.runtime.jobs import catalog_job, nes_study_job, study_job
from genebench_assets.defs.runtime.partitions import ABSENT_PAIR_RUN_TAG
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.catalog_additions import load_additions, load_pending, save_additions
from genebench_assets.science.osdr.discovery import place_candidates


def discover(settings: GenebenchSettings, source: OsdrSource):
    from genebench_assets.defs.refresh.candidates import candidates_for_source

    catalog = settings.catalog()
    candidates = candidates_for_source(source, settings.data_dir, catalog)
    return catalog, place_candidates(candidates, catalog, quantifier=source.quantifier)


@dg.sensor(
    name="osdr_new_studies_sensor",
    jobs=[catalog_job, study_job, nes_study_job],
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Polls OSDR (or the mirror / demo) for mouse bulk RNA-seq studies of the catalog's tissues "
    "that the catalog does not know; adds placeable ones as new mission partitions and requests their runs.",
)
def osdr_new_studies_sensor(context: dg.SensorEvaluationContext, settings: GenebenchSettings,
                            osdr_source: OsdrSource):
    try:
        catalog, placement = discover(settings, osdr_source)
    except Exception as exc:  # OSDR down or a malformed response: say so in the tick, try again next time
        return dg.SkipReason(f"could not poll source '{osdr_source.mode}': {type(exc).__name__}: {exc}")
    data_dir = settings.path()
    old_pending = {p["osd"]: p for p in load_pending(data_dir)}
    pending = {**old_pending, **{p["osd"]: p for p in placement.pending}}
    added = list(placement.new_studies)
    if not added and pending == old_pending:
        return dg.SkipReason(
            f"no new study ({len(placement.known)} known)"
            + ("; pending: " + ", ".join(f"{p['osd']} ({p['reason']})" for p in pending.values()) if pending else "")
        )
    existing = [dict(osd=s.osd, glds_prefix=s.glds_prefix, tissue=s.tissue, mission=s.mission,
                     expected={"flight": s.expected_flight, "ground": s.expected_ground}, note=s.note)
                for s in load_additions(data_dir)]
    save_additions(data_dir, existing + added, list(pending.values()))
    new_missions = sorted({s["mission"] for s in added} - set(context.instance.get_dynamic_partitions("mission")))
    requests = [dg.RunRequest(run_key=f"catalog-{'-'.join(s['osd'] for s in added) or 'pending'}",
                              job_name=catalog_job.name)]
    for tissue, mission in placement.new_pairs:
        requests.append(dg.RunRequest(
            run_key=f"study-{tissue}-{mission}",
            job_name=study_job.name,
            partition_key=dg.MultiPartitionKey({"tissue": tissue, "mission": mission}),
            tags={"genebench/reason": "new OSDR study"},
        ))
    requests += absent_pair_requests(catalog.tissues, new_missions, set(placement.new_pairs))
    for p in placement.pending:
        context.log.warning(f"pending {p['osd']}: {p['reason']}")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest("mission", new_missions)] if new_missions else [],
    )


def absent_pair_requests(tissues, new_missions, real_pairs) -> list[dg.RunRequest]:
    """Runs that record the absent pairs of a new mission (every per-study asset, data version "absent";
    partitions.py), so its partitions are never shown as missing work. Automation ignores absent
    records (partitions.RecordedAsAbsent): no tissue re-runs for a mission it has no study in. Tagged
    ABSENT_PAIR_RUN_TAG so the runs list tells them apart."""
    requests = []
    for mission in new_missions:
        for tissue in tissues:
            if (tissue, mission) in real_pairs:
                continue
            key = dg.MultiPartitionKey({"tissue": tissue, "mission": mission})
            for job in (study_job, nes_study_job):
                requests.append(dg.RunRequest(
                    run_key=f"absent-{job.name}-{tissue}-{mission}", job_name=job.name, partition_key=key,
                    tags={ABSENT_PAIR_RUN_TAG: "true", "genebench/reason": "absent pair of a new mission"}))
    return requests


weekly_recheck = dg.ScheduleDefinition(
    name="weekly_full_recheck",
    cron_schedule="0 6 * * 1",
    job=catalog_job,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Safety net: re-materializes the catalog weekly; declarative automation then re-checks "
    "everything downstream whose inputs changed.",
)

automation = dg.AutomationConditionSensorDefinition(
    "genebench_automation",
    target=dg.AssetSelection.all() - dg.AssetSelection.groups("llm"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    # Evaluated in the code server: study_rollup_condition uses a custom condition (RecordedAsAbsent,
    # defs/runtime/partitions.py) that the daemon could not deserialize.
    use_user_code_server=True,
    description="Evaluates the assets' automation conditions: tissue-level assets follow new or changed studies.",
)

SENSORS = [osdr_new_studies_sensor, automation]
SCHEDULES = [weekly_recheck]
