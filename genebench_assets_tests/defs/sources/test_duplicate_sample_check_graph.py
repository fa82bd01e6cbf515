"""raw_counts_no_sample_in_two_studies through the real graph: a sample planted in two studies fails it
and blocks the study's downstream assets, also when the other study's fingerprint was cached by an
earlier run in the same process (the cache keys on the version of each study's files)."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from genebench_assets.defs.sources import checks as source_check_defs
from genebench_assets_tests.science.osdr.mirror_plants import plant_sample
from genebench_assets.science.storage.atomic_files import write_parquet
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import check_results, cloned_graph, materialized, mirror_baseline

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
RR1_OSD, RR9_OSD = "OSD-101", "OSD-326"
RR1_SAMPLE = "Mmus_C57-6J_GST_RR1_FLT_Rep2_F2"
RR9_SAMPLE = "Mmus_C57-6J_GST_RR9_FLT_Rep1_F1"
CHECK = "raw_counts_no_sample_in_two_studies"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    return mirror_baseline(tmp_path_factory.mktemp("dup_sample_baseline"), TISSUE, MISSIONS)


@pytest.fixture
def clone(baseline, tmp_path):
    with cloned_graph(baseline, tmp_path) as g:
        yield g


def _mirror_counts(g, osd: str, sample: str) -> pd.Series:
    path = next((g.mirror / osd).glob("*Unnormalized_Counts*.csv"))
    return pd.read_csv(path, index_col=0)[sample]


def _check_message(result) -> str:
    ev = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.check_name == CHECK)
    return str(ev.event_specific_data.metadata)


def _n_materializations(g, asset: str, mission: str) -> int:
    key = dg.MultiPartitionKey({"tissue": TISSUE, "mission": mission})
    return len(g.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[str(key)]), limit=100).records)


def test_planted_duplicate_sample_fails_the_check_and_blocks_the_study(clone):
    assert all(check_results(clone.study(TISSUE, "RR-9")).values())  # good baseline; other studies now cached
    before = _n_materializations(clone, "normalized_expression", "RR-9")
    # The RR-9 sample's library is the RR-1 sample's, under its RR-9 name (a re-deposited sample).
    plant_sample(clone.mirror, RR9_OSD, RR9_SAMPLE, counts=_mirror_counts(clone, RR1_OSD, RR1_SAMPLE))
    misses = source_check_defs.OTHER_STUDY_FINGERPRINTS.misses
    result = clone.study(TISSUE, "RR-9")
    # RR-1 and RR-5 did not change: their fingerprints come from the cache, their counts are not re-read.
    assert source_check_defs.OTHER_STUDY_FINGERPRINTS.misses == misses
    checks = check_results(result)
    assert checks[CHECK] is False, checks
    message = _check_message(result)
    assert RR9_SAMPLE in message and RR1_SAMPLE in message and "Pearson r = 1.000000" in message
    # raw_counts is recorded (the check reads it) but nothing downstream of it runs.
    assert "normalized_expression" not in materialized(result)
    assert _n_materializations(clone, "normalized_expression", "RR-9") == before


def test_a_cached_study_changed_since_is_read_again(clone):
    """The RR-9 run caches RR-1's fingerprint; RR-1 then gains a copy of an RR-9 sample. RR-9's next run
    must compare against RR-1 as it is now (a stale cache would pass)."""
    assert all(check_results(clone.study(TISSUE, "RR-9")).values())
    plant_sample(clone.mirror, RR1_OSD, RR1_SAMPLE, counts=_mirror_counts(clone, RR9_OSD, RR9_SAMPLE))
    assert check_results(clone.study(TISSUE, "RR-1"))[CHECK] is False
    result = clone.study(TISSUE, "RR-9")
    assert check_results(result)[CHECK] is False
    assert RR1_SAMPLE in _check_message(result) and "normalized_expression" not in materialized(result)


def test_fingerprints_are_computed_once_per_version_of_a_study(tmp_path):
    store = TableStore(tmp_path)
    rng = np.random.default_rng(0)

    def write(values):
        counts = pd.DataFrame(values, index=[f"G{i}" for i in range(50)], columns=["s1", "s2"])
        write_parquet(counts, store.path("raw_counts", "liver", "RR-1"))
        write_parquet(pd.DataFrame({"osd": ["OSD-48", "OSD-48"]}, index=["s1", "s2"]),
                      store.path("raw_samples", "liver", "RR-1"))

    cache = source_check_defs.StudyFingerprints()
    write(rng.integers(0, 1000, (50, 2)))
    first = cache.get(store, "liver", "RR-1")
    assert cache.get(store, "liver", "RR-1") is first and cache.misses == 1
    write(rng.integers(0, 1000, (50, 2)))  # a new version of the table: a new key
    second = cache.get(store, "liver", "RR-1")
    assert cache.misses == 2 and not second["OSD-48 (liver RR-1)"].equals(first["OSD-48 (liver RR-1)"])


def test_a_study_being_written_by_another_run_is_skipped_and_checked_by_its_own_run(clone):
    """Two runs at a time (genebench materialize): RR-1's raw_counts file is written, its raw_samples not
    yet. RR-9's check skips RR-1 instead of failing on the missing file; RR-1's own check, which runs
    after its write ends, still compares it with RR-9 and finds a planted duplicate."""
    assert all(check_results(clone.study(TISSUE, "RR-9")).values())
    store = TableStore(clone.data_dir)
    samples = store.path("raw_samples", TISSUE, "RR-1")
    saved = samples.read_bytes()
    samples.unlink()  # RR-1 half-written
    source_check_defs.OTHER_STUDY_FINGERPRINTS._cache.clear()
    assert check_results(clone.study(TISSUE, "RR-9"))[CHECK] is True
    samples.write_bytes(saved)
    plant_sample(clone.mirror, RR1_OSD, RR1_SAMPLE, counts=_mirror_counts(clone, RR9_OSD, RR9_SAMPLE))
    result = clone.study(TISSUE, "RR-1")  # its write ends, then its check sees RR-9 whole
    assert check_results(result)[CHECK] is False and RR9_SAMPLE in _check_message(result)
    assert "normalized_expression" not in materialized(result)
