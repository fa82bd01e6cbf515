"""A mirror `study.yaml` that is not a mapping (issue 10): through the real sensor, that one study
waits as pending with a reason naming the file and what was found, and every other new study is
still discovered and placed (one bad folder must not turn the tick into "could not poll")."""

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


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    # The demo mirror with its held-back study OSD-999 published, plus a copy of it as OSD-998 whose
    # files are renamed to its own GLDS prefix (a second, otherwise valid, new study).
    root = tmp_path_factory.mktemp("mirror")
    write_demo_mirror(root, load_catalog(), n_genes=400, publish_held_back=True)
    (root / "OSD-999" / "study.yaml").write_text(yaml.safe_dump({"tissue": "thymus", "mission": "RR-10"}))
    shutil.copytree(root / "OSD-999", root / "OSD-998")
    for f in list((root / "OSD-998").iterdir()):
        f.rename(f.with_name(f.name.replace("GLDS-999", "GLDS-998")))
    return root


def _tick(data_dir: Path, mirror: Path, bad_text: str):
    (mirror / "OSD-998" / "study.yaml").write_text(bad_text)
    ctx = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources={
        "settings": GenebenchSettings(data_dir=str(data_dir)),
        "osdr_source": OsdrSource(mode="mirror", mirror_root=str(mirror))})
    return osdr_new_studies_sensor(ctx)


@pytest.mark.parametrize("bad_text, found", [
    ("- thymus\n- RR-11\n", "found list ['thymus', 'RR-11']"),
    ("just a sentence\n", "found str 'just a sentence'"),
    ("tissue: [unclosed\n", "not valid YAML"),
])
def test_non_mapping_study_yaml_is_pending_and_the_other_study_is_placed(tmp_path, mirror, bad_text, found):
    result = _tick(tmp_path, mirror, bad_text)
    assert isinstance(result, dg.SensorResult)  # not a SkipReason("could not poll ...")
    # The good study is placed and its run requested ...
    assert [(s.osd, s.mission) for s in load_additions(tmp_path)] == [("OSD-999", "RR-10")]
    assert [r.partition_key for r in result.run_requests  # real pairs (not the absent-pair records)
            if r.job_name == "study_job" and "genebench/absent_pair" not in r.tags] == [
        dg.MultiPartitionKey({"tissue": "thymus", "mission": "RR-10"})]
    # ... the bad one waits, with a one-line reason naming the file and what it holds.
    pending = load_pending(tmp_path)
    assert [p["osd"] for p in pending] == ["OSD-998"]
    reason = pending[0]["reason"]
    assert str(mirror / "OSD-998" / "study.yaml") in reason and found in reason and "\n" not in reason
