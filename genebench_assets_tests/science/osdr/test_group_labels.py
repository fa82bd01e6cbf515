import math

import pandas as pd
import pytest

from genebench_assets.science.osdr.group_labels import GROUPS, binary_label, map_group
from genebench_assets.science.osdr.source_files import StudyDataError
from genebench_assets_tests.conftest import shared_path


@pytest.mark.parametrize(
    "value, group",
    [
        ("Space Flight", "Flight"),
        ("Flight", "Flight"),
        ("FLT", "Flight"),
        ("uG", "Flight"),
        ("  space   flight ", "Flight"),
        ("Space.Flight", "Flight"),  # R make.names spelling
        ("SPACEFLIGHT", "Flight"),
        ("Ground Control", "GC"),
        ("Ground control", "GC"),
        ("GC", "GC"),
        ("gc ", "GC"),
        ("Vivarium", "VC"),
        ("Vivarium Control", "VC"),
        ("VIV", "VC"),
        ("Basal", "BC"),
        ("Basal Control", "BC"),
        ("BSL", "BC"),
        ("1G centrifuge", "AG"),
        ("AG", "AG"),
        ("Artificial Gravity", "AG"),
        ("1G on ISS", "AG"),
    ],
)
def test_known_strings_map_explicitly(value, group):
    assert map_group(value, osd="OSD-48", sample="S1") == group


@pytest.mark.parametrize("value", ["Ground", "1G", "Control", "Hindlimb Unloading", "", "Flight?"])
def test_unknown_or_ambiguous_string_is_an_error_naming_study_sample_and_value(value):
    with pytest.raises(StudyDataError) as err:
        map_group(value, osd="OSD-999", sample="Mmus_C57-6J_LVR_X_Rep1", file_name="GLDS-999_runsheet.csv")
    msg = str(err.value)
    assert "OSD-999" in msg and "Mmus_C57-6J_LVR_X_Rep1" in msg and repr(value) in msg
    assert "GLDS-999_runsheet.csv" in msg
    assert err.value.value == value


@pytest.mark.parametrize("value", [None, float("nan")])
def test_missing_group_is_an_error(value):
    with pytest.raises(StudyDataError, match="OSD-1.*S9"):
        map_group(value, osd="OSD-1", sample="S9")


def test_binary_label():
    assert binary_label("Flight") == 1.0
    assert binary_label("GC") == 0.0
    assert binary_label("VC") == 0.0
    assert math.isnan(binary_label("BC"))
    assert math.isnan(binary_label("AG"))
    assert math.isnan(binary_label("something else"))
    assert set(GROUPS) == {"Flight", "GC", "VC", "BC", "AG"}


def test_real_glds48_runsheet_groups_all_map():
    path = shared_path("osdr_api", "GLDS-48_bulkRNASeq_v1_runsheet.csv")
    sheet = pd.read_csv(path)
    groups = [map_group(v, osd="OSD-48", sample=s) for s, v in zip(sheet["Sample Name"], sheet["Factor Value[Spaceflight]"])]
    assert groups.count("Flight") == 7 and groups.count("GC") == 7
