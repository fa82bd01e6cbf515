"""The quantifier setting of the `osdr_source` resource (issue 19, item 6): RSEM by default (SPEC §3),
GENEBENCH_QUANTIFIER=STAR reads STAR counts, in the mirror and live modes alike; an unknown value is
one line naming the setting."""

from __future__ import annotations

import dagster as dg
import pytest

from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.science.osdr import genelab_shapes as shapes
from genebench_assets_tests.science.osdr.test_mirror import OSD48_12, real_shaped_folder

RSEM_NAME = "GLDS-48" + shapes.RSEM_SUFFIXES["old_GLDS_rna_seq"]
STAR_NAME = "GLDS-48" + shapes.STAR_SUFFIXES["STAR_GLbulkRNAseq"]


@pytest.fixture
def mirror(tmp_path):
    folder = tmp_path / "mirror" / "OSD-48"
    real_shaped_folder(folder, RSEM_NAME)
    (folder / STAR_NAME).write_bytes((folder / RSEM_NAME).read_bytes())
    return tmp_path / "mirror"


def _counts(files):
    return next(f for f in files if f.kind == "counts")


def test_rsem_by_default_and_star_from_the_environment(tmp_path, mirror, monkeypatch):
    monkeypatch.delenv("GENEBENCH_QUANTIFIER", raising=False)
    catalog = load_catalog()
    default = OsdrSource(mode="mirror", mirror_root=str(mirror))
    assert default.quantifier == "RSEM"
    counts = _counts(default.fetch_study(OSD48_12, tmp_path / "data", catalog))
    assert (counts.file_name, counts.provenance()["quantifier"]) == (RSEM_NAME, "RSEM")
    monkeypatch.setenv("GENEBENCH_QUANTIFIER", "STAR")
    star = OsdrSource(mode="mirror", mirror_root=str(mirror))
    counts = _counts(star.fetch_study(OSD48_12, tmp_path / "data", catalog))
    assert (counts.file_name, counts.provenance()["quantifier"]) == (STAR_NAME, "STAR")


def test_the_live_client_gets_the_setting(tmp_path):
    with OsdrSource(mode="osdr", quantifier="STAR").make_client(tmp_path) as client:
        assert client.quantifier == "STAR"


def test_an_unknown_quantifier_fails_in_one_line(tmp_path, mirror):
    source = OsdrSource(mode="mirror", mirror_root=str(mirror), quantifier="salmon")
    with pytest.raises(dg.Failure) as info:
        source.fetch_study(OSD48_12, tmp_path / "data", load_catalog())
    msg = str(info.value.description)
    assert "\n" not in msg and "'salmon'" in msg and "GENEBENCH_QUANTIFIER" in msg
