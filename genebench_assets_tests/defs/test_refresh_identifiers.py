"""Path traversal through a mission name (issue 10, item 2), through the real sensor and graph: a
mirror study whose `study.yaml` says `mission: ../../../../PWNED` is kept pending with the reason, no
study run is requested, `osdr_catalog` lists it as pending, and no file appears outside the data dir."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from genebench_assets.defs.refresh.sensors import osdr_new_studies_sensor
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.catalog_additions import load_additions, load_pending
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.defs.demo_graph import DemoGraph

HOSTILE = "../../../../PWNED"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    # The demo mirror with its held-back study OSD-999 (thymus, 8 Flight / 8 Ground) published.
    root = tmp_path_factory.mktemp("mirror")
    write_demo_mirror(root, load_catalog(), n_genes=400, publish_held_back=True)
    return root


def _tick(data_dir: Path, mirror: Path, mission, instance=None):
    (mirror / "OSD-999" / "study.yaml").write_text(yaml.safe_dump({"tissue": "thymus", "mission": mission}))
    instance = instance or dg.DagsterInstance.ephemeral()
    source = OsdrSource(mode="mirror", mirror_root=str(mirror))
    ctx = dg.build_sensor_context(instance=instance, resources={
        "settings": GenebenchSettings(data_dir=str(data_dir)), "osdr_source": source})
    return osdr_new_studies_sensor(ctx), source


def _files_named(root: Path, word: str) -> list[Path]:
    return [p for p in root.rglob("*") if word in p.name]


def test_hostile_mission_in_mirror_study_yaml_is_refused(tmp_path, mirror):
    data_dir = tmp_path / "deep" / "er" / "data"  # so that ../../../../ from tables/<asset>/<tissue>/ stays in tmp_path
    result, source = _tick(data_dir, mirror, HOSTILE)
    # Reported (catalog re-materialized to list it) and kept pending; nothing placed, no study run.
    assert isinstance(result, dg.SensorResult)
    assert [r.job_name for r in result.run_requests] == ["catalog_job"]
    assert not result.dynamic_partitions_requests
    pending = load_pending(data_dir)
    assert [(p["osd"], p["mission"]) for p in pending] == [("OSD-999", HOSTILE)]
    assert pending[0]["reason"].startswith(f"refused: study metadata: mission '{HOSTILE}' is not a valid mission")
    assert load_additions(data_dir) == []
    # The catalog run the sensor requested lists it as pending, and the real graph builds nothing for it.
    graph = DemoGraph(data_dir, source=source)
    run = graph.catalog()
    assert run.success
    meta = run.asset_materializations_for_node("osdr_catalog")[0].metadata
    assert meta["n_pending"].value == 1 and HOSTILE in str(meta["pending_studies"].value)
    assert not graph.settings.catalog().mission_names().count(HOSTILE)
    assert _files_named(tmp_path, "PWNED") == [] and _files_named(mirror, "PWNED") == []


def test_same_study_with_a_real_mission_name_is_placed(tmp_path, mirror):
    """Control: the refusal is about the name, not the study."""
    result, _ = _tick(tmp_path, mirror, "RR-10")
    assert [r.partition_key for r in result.run_requests  # real pairs (not the absent-pair records)
            if r.job_name == "study_job" and "genebench/absent_pair" not in r.tags] == [
        dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})]
    assert [(s.osd, s.mission) for s in load_additions(tmp_path)] == [("OSD-999", "RR-10")]


@pytest.mark.parametrize("mission", [{"name": "RR-10"}, "RR-10/../../x", "RR 10"])
def test_non_string_or_dotted_missions_are_refused(tmp_path, mirror, mission):
    result, _ = _tick(tmp_path, mirror, mission)
    assert not [r for r in result.run_requests if r.job_name == "study_job"]
    assert load_pending(tmp_path)[0]["reason"].startswith("refused: study metadata: mission")


def test_tampered_catalog_additions_fail_the_catalog_run_naming_file_and_value(tmp_path, mirror):
    """A hand-edited `catalog_additions.json` is refused where it is read (no partition, no file)."""
    (tmp_path / "catalog_additions.json").write_text(
        '{"studies": [{"osd": "OSD-999", "tissue": "thymus", "mission": "%s", '
        '"expected": {"flight": 8, "ground": 8}}], "pending": []}' % HOSTILE)
    graph = DemoGraph(tmp_path, source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    run = graph.catalog()
    assert not run.success
    error, message = run.get_step_failure_events()[0].event_specific_data.error, ""
    while error is not None:  # the user error is the cause of Dagster's step error
        message, error = message + error.message, error.cause
    assert "catalog_additions.json: studies[0]" in message and f"mission '{HOSTILE}'" in message
    assert _files_named(tmp_path, "PWNED") == []


def test_live_hit_with_a_hostile_mission_field_is_refused():
    """The live path: OSDR's free-text Mission field (used when the title names no RR/MHU mission)."""
    from genebench_assets.science.osdr.discovery import mission_from_hit
    from genebench_assets.science.osdr.discovery import Candidate, place_candidates

    mission = mission_from_hit({"Study Title": "thymus study", "Mission": {"Name": HOSTILE}})
    files = ("GLDS-998_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv", "GLDS-998_rna_seq_bulkRNASeq_v2_runsheet.csv")
    placement = place_candidates([Candidate(osd="OSD-998", tissue_raw="Thymus", mission=mission, file_names=files,
                                            n_flight=4, n_ground=4)], load_catalog())
    assert placement.new_studies == [] and "refused" in placement.pending[0]["reason"]
