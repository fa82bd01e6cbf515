"""Blocking checks on raw counts and sample metadata (pure functions in science.source_checks)."""


import dagster as dg

from genebench_assets.defs.gating.check_results import skipped_absent, to_check_result
from genebench_assets.defs.runtime.partitions import pair_of, study_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.gating.study_partition import StudyPartition
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
                description="Sample ids are unique within the pair, in the stored raw_samples table as it is on disk "
                "(the parser refuses a bad raw file first; this catches a stored table changed after the write).")
def raw_counts_unique_sample_ids(context, settings: GenebenchSettings):
    tissue, mission, samples = _loaded(context, settings, "raw_samples")
    if samples is None:
        return skipped_absent(tissue, mission)
    return to_check_result(source_checks.unique_sample_ids(samples.reset_index()))


@dg.asset_check(asset=raw_counts, blocking=True, partitions_def=study_partitions,
                description="Counts are non-negative integers, in the stored raw_counts table as it is on disk (the "
                "parser and the write contract refuse bad counts first; this catches a stored table changed after the write).")
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
    # This study's table is fingerprinted as it is now; every other study's fingerprint comes from
    # OTHER_STUDY_FINGERPRINTS (computed once per version of its files, not on every study run).
    prints = {f"{osd} ({tissue} {mission})": source_checks.expression_fingerprint(counts[list(ids)])
              for osd, ids in here.groupby("osd").groups.items()}
    for t, m in settings.catalog().pairs():
        if (t, m) == (tissue, mission) or not store.exists("raw_counts", t, m):
            continue
        try:
            prints.update(OTHER_STUDY_FINGERPRINTS.get(store, t, m))
        except (FileNotFoundError, KeyError):
            # That study is being written by another run right now (raw_counts and raw_samples are two
            # files: one is there, the other not yet, or of another version). Skipping it here loses
            # nothing: its own check runs after its write ends, hence after this study's files were
            # complete, and compares the two then (runs go two at a time: materialize_plan.py).
            continue
    return to_check_result(source_checks.no_sample_in_two_studies(prints, fingerprinted=True))


class StudyFingerprints:
    """Each study's expression fingerprints by OSD (`source_checks.expression_fingerprint` of its
    raw_counts columns), cached by the identity of its raw_counts and raw_samples files (path, inode,
    mtime, size: a table store write replaces the file, so any new version is a new key).

    Why: every study run checks its samples against every other study. Re-reading and re-fingerprinting
    all other studies' full counts on every run made the study stage quadratic in the number of
    studies (issue 13); with the cache, a process running many study runs (`genebench materialize`
    runs them all in-process) reads each version of a study's counts once. A run in a fresh process
    (the UI, a daemon run) fills the cache as before. Stores on fsspec URLs are not cached (no inode)."""

    def __init__(self, max_entries: int = 512):
        import collections

        self.max_entries = max_entries
        self._cache: "collections.OrderedDict[tuple, dict]" = collections.OrderedDict()
        self.misses = 0

    @staticmethod
    def _identity(path) -> tuple:
        st = path.stat()
        return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)

    def get(self, store: TableStore, tissue: str, mission: str) -> dict:
        def compute() -> dict:
            counts = store.read_frame("raw_counts", tissue, mission)
            samples = store.read_frame("raw_samples", tissue, mission)
            return {f"{osd} ({tissue} {mission})": source_checks.expression_fingerprint(counts[list(ids)])
                    for osd, ids in samples.groupby("osd").groups.items()}

        if store.fs is not None:
            return compute()
        key = (self._identity(store.path("raw_counts", tissue, mission)),
               self._identity(store.path("raw_samples", tissue, mission)))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self.misses += 1
        value = self._cache[key] = compute()
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return value


OTHER_STUDY_FINGERPRINTS = StudyFingerprints()


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


@dg.asset_check(asset=sample_metadata, blocking=True, partitions_def=study_partitions,
                description="Flight / Ground counts after exclusions equal the catalog's expected counts (SPEC §2). "
                "Blocking: relabelled or lost samples change every reported AUROC, so such a study never reaches "
                "its tissue. A user catalog with `expected_counts: advisory` has a difference reported "
                "(metadata `advisory_mismatch`, a warning in the run log) instead.")
def sample_metadata_expected_counts(context, settings: GenebenchSettings):
    tissue, mission, meta = _loaded(context, settings, "sample_metadata")
    if meta is None:
        return skipped_absent(tissue, mission)
    from genebench_assets.science.osdr.catalog_additions import load_additions

    catalog = settings.catalog()
    studies = catalog.studies_for(tissue, mission)
    # A study the refresh sensor added expects its sample table's counts as discovered (before QC).
    added = {s.osd for s in load_additions(settings.path())}
    outcome = source_checks.expected_counts_match(
        meta,
        expected_flight=sum(s.expected_flight for s in studies),
        expected_ground=sum(s.expected_ground for s in studies),
        after_exclusions=not all(s.osd in added for s in studies),
    )
    if not outcome.passed and catalog.expected_counts_advisory:
        context.log.warning(f"({tissue}, {mission}) {', '.join(s.osd for s in studies)}: "
                            f"{'; '.join(outcome.failures)} (advisory: {catalog.source} sets expected_counts: advisory)")
        outcome = source_checks.advisory(outcome, f"{catalog.source} sets expected_counts: advisory")
    return to_check_result(outcome)
