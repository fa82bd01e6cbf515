"""Blocking means blocking (issue 10, item 1), through the real graph: after a good run, 4 Ground
samples of the gastrocnemius RR-1 mirror study are relabelled Flight and the study and tissue are
materialized again. The study's blocking check fails; nothing downstream runs on its data, in that
run or a later one; the evaluation on disk is the good one; the bad working copy is never read by a
tissue; once the study passes again the tissue runs again."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.gating.tissue_inputs import load_tissue
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.storage.table_store import TableStore
from genebench_assets_tests.defs.demo_graph import DemoGraph, check_results, materialized

pytestmark = pytest.mark.slow
TISSUE, MISSIONS = "gastrocnemius", ["RR-1", "RR-5", "RR-9"]
BLOCKING = "sample_metadata_flight_ground_minimums"


def _failure_messages(result) -> str:
    out = []
    for ev in result.all_events:
        if ev.is_step_failure:
            user = ev.event_specific_data.user_failure_data
            if user is not None:  # a dg.Failure: its description in full (error messages are shortened)
                out.append(user.description or "")
            err = ev.event_specific_data.error
            while err is not None:
                out.append(err.message)
                err = err.cause
    return "\n".join(out)


def _relabel_ground_as_flight(runsheet, n: int) -> None:
    lines = runsheet.read_text().splitlines()
    done = 0
    for i, line in enumerate(lines):
        if done < n and ",Ground Control," in line:
            lines[i] = line.replace(",Ground Control,", ",Space Flight,")
            done += 1
    assert done == n
    runsheet.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    root = tmp_path_factory.mktemp("promotion")
    mirror = root / "mirror"
    write_demo_mirror(mirror, load_catalog(), seed=42, n_genes=6000)
    g = DemoGraph(root / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    assert g.catalog().success
    for m in MISSIONS:
        assert g.study(TISSUE, m).success, m
    good = g.tissue(TISSUE)
    assert good.success, _failure_messages(good)
    store, tissue_store = TableStore(g.data_dir), g.settings.table_store()
    g.good = {
        "evaluation_summary": tissue_store.sha256("evaluation_summary", TISSUE),
        "model_predictions": tissue_store.sha256("model_predictions", TISSUE),
        "lomo_folds": tissue_store.sha256("lomo_folds", TISSUE, ext="json"),
        "promoted": store.promoted(TISSUE, "RR-1").version,
        "promoted_files": store.promoted(TISSUE, "RR-1").files,
    }
    g.runsheet = next((mirror / "OSD-101").glob("*runsheet*.csv"))
    g.original_runsheet = g.runsheet.read_text()
    _relabel_ground_as_flight(g.runsheet, 4)
    g.bad_study = g.study(TISSUE, "RR-1")
    g.bad_tissue = g.tissue(TISSUE)
    return g


def test_the_blocking_check_fails_and_stops_the_study(blocked):
    checks = check_results(blocked.bad_study)
    assert checks[BLOCKING] is False
    assert not blocked.bad_study.success
    # sample_metadata was written (its checks need it) but nothing after it ran.
    assert materialized(blocked.bad_study) == ["raw_counts", "sample_metadata"]
    bad = TableStore(blocked.data_dir).read_frame("sample_metadata", TISSUE, "RR-1")
    assert int((bad["label"] == 0).sum()) == 2  # the bad working copy exists ...


def test_the_tissue_fails_naming_the_blocked_study_and_writes_nothing(blocked):
    result = blocked.bad_tissue
    assert not result.success
    message = _failure_messages(result)
    assert "(gastrocnemius, RR-1) is blocked" in message and BLOCKING in message, message
    assert f"last promoted version {blocked.good['promoted']}" in message
    assert materialized(result) == []
    store = blocked.settings.table_store()
    assert store.sha256("evaluation_summary", TISSUE) == blocked.good["evaluation_summary"]
    assert store.sha256("model_predictions", TISSUE) == blocked.good["model_predictions"]
    assert store.sha256("lomo_folds", TISSUE, ext="json") == blocked.good["lomo_folds"]


def test_readers_see_only_the_promoted_good_version(blocked):
    # ... but a tissue reader (here as `genebench export-folds` reads) sees the promoted good version.
    store = blocked.settings.table_store()
    assert store.promoted(TISSUE, "RR-1").version == blocked.good["promoted"]
    data = load_tissue(store, load_catalog(), TISSUE)
    rr1 = data.metadata[data.metadata["mission"] == "RR-1"]
    assert (int((rr1["label"] == 1).sum()), int((rr1["label"] == 0).sum())) == (6, 6)
    # The promoted snapshot is not the working copy, byte for byte.
    version = store.promoted(TISSUE, "RR-1")
    assert version.files["sample_metadata.parquet"] != sha256_file(
        store.path("sample_metadata", TISSUE, "RR-1"))


def test_a_later_run_of_a_downstream_study_asset_is_refused(blocked):
    result = blocked.study(TISSUE, "RR-1", keys=["normalized_expression"])
    assert not result.success and materialized(result) == []
    message = _failure_messages(result)
    assert "(gastrocnemius, RR-1) is blocked" in message and BLOCKING in message, message


def test_a_file_written_outside_a_passing_materialization_is_refused(blocked, tmp_path):
    # Tamper with a working copy that passed (RR-5): it no longer matches its materialization.
    store = TableStore(blocked.data_dir)
    path = store.path("sample_metadata", TISSUE, "RR-5")
    saved = path.read_bytes()
    try:
        meta = store.read_frame("sample_metadata", TISSUE, "RR-5")
        ground = meta.index[meta["label"] == 0][:4]
        meta.loc[ground, "label"] = 1.0
        meta.to_parquet(path)  # by hand, past the store (and its contracts)
        result = blocked.tissue(TISSUE, keys=["lomo_folds"])
        assert not result.success
        assert "(gastrocnemius, RR-5) is blocked" in _failure_messages(result)
        assert "written by a run that failed, or by hand" in _failure_messages(result)
    finally:
        path.write_bytes(saved)


TISSUE_SELECTION = dg.AssetSelection.assets("lomo_folds", "model_predictions", "evaluation_summary")


def test_automation_does_not_request_the_tissue_while_blocked(blocked):
    from genebench_assets.definitions import defs

    result = dg.evaluate_automation_conditions(defs=defs, instance=blocked.instance,
                                               asset_selection=TISSUE_SELECTION)
    assert result.get_requested_partitions(dg.AssetKey("lomo_folds")) == set()
    blocked.automation_cursor = result.cursor


def test_once_the_study_passes_again_the_tissue_runs_again(blocked):
    from genebench_assets.definitions import defs

    blocked.runsheet.write_text(blocked.original_runsheet)
    assert blocked.study(TISSUE, "RR-1").success
    # The control for the test above: now that the study passes, automation requests its tissue.
    result = dg.evaluate_automation_conditions(defs=defs, instance=blocked.instance, asset_selection=TISSUE_SELECTION,
                                               cursor=getattr(blocked, "automation_cursor", None))
    assert result.get_requested_partitions(dg.AssetKey("lomo_folds")) == {TISSUE}
    assert blocked.tissue(TISSUE).success
    store = blocked.settings.table_store()
    # Same inputs as the good run: same promoted version, same evaluation bytes (deterministic).
    again = TableStore(blocked.data_dir).promoted(TISSUE, "RR-1").files
    for table in ("sample_metadata.parquet", "normalized_expression.parquet"):
        assert again[table] == blocked.good["promoted_files"][table], table
    assert store.sha256("evaluation_summary", TISSUE) == blocked.good["evaluation_summary"]


def test_metadata_from_an_older_raw_counts_is_not_promoted(blocked):
    """Issue 19 item 2: a raw file changes, raw_counts re-runs, then only normalized_expression. Its own
    inputs are current, but sample_metadata (labels, QC) was computed from the old raw_counts: the study
    must not be promoted as one version, and the tissue says which table to re-materialize."""
    mirror = blocked.source.mirror_root
    from pathlib import Path

    counts_file = next((Path(mirror) / "OSD-401").glob("*Unnormalized_Counts*.csv"))
    original = counts_file.read_bytes()
    try:
        lines = original.decode().splitlines(keepends=True)
        first = lines[1].split(",")
        first[1] = str(int(float(first[1])) + 1)  # one count of one gene: the study's checks still pass
        lines[1] = ",".join(first)
        counts_file.write_text("".join(lines))
        assert blocked.study(TISSUE, "RR-5", keys=["raw_counts"]).success
        assert blocked.study(TISSUE, "RR-5", keys=["normalized_expression"]).success
        result = blocked.tissue(TISSUE, keys=["lomo_folds"])
        assert not result.success and materialized(result) == []
        message = _failure_messages(result)
        assert "(gastrocnemius, RR-5) is blocked" in message, message
        assert "sample_metadata was computed from another raw_counts" in message, message
    finally:
        counts_file.write_bytes(original)
        assert blocked.study(TISSUE, "RR-5").success


def test_raw_files_provenance_is_promoted_only_as_raw_counts_recorded_it(blocked):
    """raw_files.json (what lineage shows as the raw files behind every number) is verified too: one
    edited by hand after raw_counts recorded it is not promoted."""
    store = TableStore(blocked.data_dir)
    path = store.path("raw_files", TISSUE, "RR-5", ext="json")
    saved = path.read_bytes()
    try:
        path.write_bytes(saved.replace(b'"sha256": "', b'"sha256": "0', 1))
        result = blocked.tissue(TISSUE, keys=["lomo_folds"])
        assert not result.success and materialized(result) == []
        message = _failure_messages(result)
        assert "raw_files.json on disk" in message and "is not what the latest raw_counts recorded" in message, message
    finally:
        path.write_bytes(saved)
