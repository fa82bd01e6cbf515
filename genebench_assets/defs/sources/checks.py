"""Blocking checks on raw counts and sample metadata (pure functions in science.source_checks)."""


import dagster as dg

from genebench_assets.defs.check_results import skipped_absent, to_check_result
from genebench_assets.defs.partitions import pair_of, study_partitions
from genebench_assets.defs.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.study_partition import StudyPartition
from genebench_assets.science.osdr import source_checks
from genebench_assets.science.storage.table_store import TableStore


def _loaded(context, settings, asset):
    """(tissue, mission, table), with table None for a pair the catalog does not have."""
    study = StudyPartition.open(context, settings)
    if study is None:
        tissue, mission = pair_of(context)
        return tissue, mission, None
    return study.tissue, study.mission, study.read(asset)


@dg.asset_check(asset=raw_counts, blocking=True, partitions_def=study_partitions,
                description="Sample ids are unique within the pair.")
def raw_counts_unique_sample_ids(context, settings: GenebenchSettings):
    tissue, mission, samples = _loaded(context, settings, "raw_samples")
    if samples is None:
        return skipped_absent(tissue, mission)
    return to_check_result(source_checks.unique_sample_ids(samples.reset_index()))


@dg.asset_check(asset=raw_counts, blocking=True, partitions_def=study_partitions,
                description="Counts are non-negative integers.")
def raw_counts_nonnegative_integers(context, settings: GenebenchSettings):
    tissue, mission, counts = _loaded(context, settings, "raw_counts")
    if counts is None:
        return skipped_absent(tissue, mission)
    return to_check_result(source_checks.counts_are_nonnegative_integers(counts.dropna(axis=0, how="any")))


@dg.asset_check(asset=raw_counts, blocking=True, partitions_def=study_partitions,
                description="No sample appears in two studies: by sample id and by expression fingerprint "
                "(Pearson r >= 0.9999) against every other materialized study (the duplicate-study trap).")
def raw_counts_no_sample_in_two_studies(context, settings: GenebenchSettings):
    tissue, mission, counts = _loaded(context, settings, "raw_counts")
    if counts is None:
        return skipped_absent(tissue, mission)
    store = TableStore(settings.data_dir)
    here = store.read_frame("raw_samples", tissue, mission)
    by_study = {}
    for osd, ids in here.groupby("osd").groups.items():
        by_study[f"{osd} ({tissue} {mission})"] = counts[list(ids)]
    for t, m in settings.catalog().pairs():
        if (t, m) == (tissue, mission) or not store.exists("raw_counts", t, m):
            continue
        other = store.read_frame("raw_counts", t, m)
        other_samples = store.read_frame("raw_samples", t, m)
        for osd, ids in other_samples.groupby("osd").groups.items():
            by_study[f"{osd} ({t} {m})"] = other[list(ids)]
    return to_check_result(source_checks.no_sample_in_two_studies(by_study))


@dg.asset_check(asset=sample_metadata, blocking=True, partitions_def=study_partitions,
                description="Required metadata (study, tissue, mission, group, label rule, source file) present.")
def sample_metadata_required_fields(context, settings: GenebenchSettings):
    tissue, mission, meta = _loaded(context, settings, "sample_metadata")
    if meta is None:
        return skipped_absent(tissue, mission)
    # Strain may legitimately be unknown (GEO/SRA-style sample names carry no strain token).
    required = tuple(c for c in source_checks.REQUIRED_METADATA if c != "strain")
    return to_check_result(source_checks.required_metadata_present(meta, required=required))


@dg.asset_check(asset=sample_metadata, blocking=True, partitions_def=study_partitions,
                description="An eligible mission has >= 3 Flight and >= 3 Ground samples after exclusions.")
def sample_metadata_flight_ground_minimums(context, settings: GenebenchSettings):
    tissue, mission, meta = _loaded(context, settings, "sample_metadata")
    if meta is None:
        return skipped_absent(tissue, mission)
    return to_check_result(source_checks.flight_ground_minimums(meta))


@dg.asset_check(asset=sample_metadata, partitions_def=study_partitions,
                description="Flight / Ground counts after exclusions equal the catalog's expected counts (SPEC §2).")
def sample_metadata_expected_counts(context, settings: GenebenchSettings):
    tissue, mission, meta = _loaded(context, settings, "sample_metadata")
    if meta is None:
        return skipped_absent(tissue, mission)
    studies = settings.catalog().studies_for(tissue, mission)
    return to_check_result(
        source_checks.expected_counts_match(
            meta,
            expected_flight=sum(s.expected_flight for s in studies),
            expected_ground=sum(s.expected_ground for s in studies),
        )
    )
