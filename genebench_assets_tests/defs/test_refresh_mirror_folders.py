"""The refresh sensor on a mirror with one bad new folder (issue 25, weak cases), through the real
sensor: a folder whose name is not an OSD accession, or a new study declaring a (tissue, mission) that
already is a study, waits as pending with a one-line reason; every other new study is still placed,
and the refused one is in no catalog addition and no run request."""

from __future__ import annotations

import shutil
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

GOOD = dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    # The demo mirror with its held-back study OSD-999 (thymus RR-10) published: one valid new study.
    root = tmp_path_factory.mktemp("mirror")
    write_demo_mirror(root, load_catalog(), n_genes=400, publish_held_back=True)
    (root / "OSD-999" / "study.yaml").write_text(yaml.safe_dump({"tissue": "thymus", "mission": "RR-10"}))
    return root


def _copy_study(mirror: Path, folder: str, prefix: str, study_yaml: dict) -> Path:
    """A copy of OSD-999 as `folder`, its files renamed to `prefix`."""
    target = mirror / folder
    shutil.copytree(mirror / "OSD-999", target)
    for f in list(target.iterdir()):
        f.rename(f.with_name(f.name.replace("GLDS-999", prefix)))
    (target / "study.yaml").write_text(yaml.safe_dump(study_yaml))
    return target


def _tick(tmp_path: Path, mirror: Path):
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources={
        "settings": GenebenchSettings(data_dir=str(tmp_path / "data")),
        "osdr_source": OsdrSource(mode="mirror", mirror_root=str(mirror))})
    return osdr_new_studies_sensor(ctx)


def _real_study_requests(result) -> list:
    return [r.partition_key for r in result.run_requests
            if r.job_name == "study_job" and "genebench/absent_pair" not in r.tags]


@pytest.fixture
def mirror(tmp_path, pristine) -> Path:
    root = tmp_path / "mirror"
    shutil.copytree(pristine, root)
    return root


@pytest.mark.parametrize("folder", ["OSD-99a", "OSD-", "OSD-1 2"])
def test_a_badly_named_folder_is_pending_and_the_others_are_placed(tmp_path, mirror, folder):
    _copy_study(mirror, folder, "GLDS-998", {"tissue": "thymus", "mission": "RR-11"})
    result = _tick(tmp_path, mirror)
    assert isinstance(result, dg.SensorResult)  # not SkipReason("could not poll source ...")
    assert [(s.osd, s.mission) for s in load_additions(tmp_path / "data")] == [("OSD-999", "RR-10")]
    assert _real_study_requests(result) == [GOOD]
    pending = load_pending(tmp_path / "data")
    assert [p["osd"] for p in pending] == [folder]
    reason = pending[0]["reason"]
    assert str(mirror / folder) in reason and repr(folder) in reason and "\n" not in reason


def test_a_new_study_declaring_an_existing_pair_is_refused_as_a_conflicting_duplicate(tmp_path, mirror):
    # OSD-998 says it is gastrocnemius RR-1, which is OSD-101 in the catalog.
    _copy_study(mirror, "OSD-998", "GLDS-998", {"tissue": "gastrocnemius", "mission": "RR-1"})
    result = _tick(tmp_path, mirror)
    assert isinstance(result, dg.SensorResult)
    assert [s.osd for s in load_additions(tmp_path / "data")] == ["OSD-999"]
    assert _real_study_requests(result) == [GOOD]
    pending = load_pending(tmp_path / "data")
    assert [p["osd"] for p in pending] == ["OSD-998"]
    reason = pending[0]["reason"]
    assert "conflicting duplicate" in reason and "(gastrocnemius, RR-1)" in reason and "OSD-101" in reason
    # The catalog the assets read has the pair's own study only.
    settings = GenebenchSettings(data_dir=str(tmp_path / "data"))
    assert [s.osd for s in settings.catalog().studies_for("gastrocnemius", "RR-1")] == ["OSD-101"]


def test_two_new_studies_declaring_the_same_new_pair_place_only_the_first(tmp_path, mirror):
    _copy_study(mirror, "OSD-9990", "GLDS-9990", {"tissue": "thymus", "mission": "RR-10"})
    result = _tick(tmp_path, mirror)
    assert [s.osd for s in load_additions(tmp_path / "data")] == ["OSD-999"]
    assert _real_study_requests(result) == [GOOD]
    [pending] = load_pending(tmp_path / "data")
    assert pending["osd"] == "OSD-9990" and "conflicting duplicate" in pending["reason"]
    assert "OSD-999" in pending["reason"]
