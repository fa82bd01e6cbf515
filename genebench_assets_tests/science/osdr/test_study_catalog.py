"""The catalog file reproduces SPEC §2: pairs, special rules, expected counts, exclusions."""

import pytest

from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog

# SPEC §2, "Sample counts Flight/Ground after exclusions", typed in independently of the YAML.
SPEC_COUNTS = {
    ("liver", "MHU-2"): (3, 3), ("liver", "RR-1"): (7, 7), ("liver", "RR-3"): (6, 6),
    ("liver", "RR-6"): (20, 19), ("liver", "RR-8"): (35, 68), ("liver", "RR-9"): (5, 14),
    ("gastrocnemius", "RR-1"): (6, 6), ("gastrocnemius", "RR-5"): (6, 6), ("gastrocnemius", "RR-9"): (4, 4),
    ("kidney", "RR-1"): (6, 6), ("kidney", "RR-3"): (6, 6), ("kidney", "RR-7"): (20, 74),
    ("thymus", "MHU-1"): (3, 3), ("thymus", "MHU-2"): (3, 3), ("thymus", "RR-6"): (17, 18),
    ("thymus", "RR-9"): (10, 10), ("thymus", "RR-23"): (7, 9),
    ("skin", "MHU-2"): (11, 24), ("skin", "RR-6"): (18, 19), ("skin", "RR-7"): (10, 20),
    ("eye", "RR-1"): (6, 6), ("eye", "RR-3"): (5, 4), ("eye", "TBD"): (9, 7),
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_pairs_and_expected_counts_match_spec(catalog):
    assert set(catalog.pairs()) == set(SPEC_COUNTS)
    for pair, (flight, ground) in SPEC_COUNTS.items():
        studies = catalog.studies_for(*pair)
        assert (sum(s.expected_flight for s in studies), sum(s.expected_ground for s in studies)) == (flight, ground), pair


def test_special_rules(catalog):
    assert [s.glds_prefix for s in catalog.studies_for("liver", "MHU-2")] == ["GLDS-617"]
    assert {s.osd for s in catalog.studies_for("skin", "MHU-2")} == {"OSD-238", "OSD-239"}
    assert catalog.studies_for("thymus", "MHU-1")[0].sample_filter == {"name_token": "MHU1"}
    assert catalog.studies_for("thymus", "MHU-2")[0].sample_filter == {"name_token": "MHU2"}
    rr7 = catalog.studies_for("skin", "RR-7")[0]
    assert rr7.osd == "OSD-254" and rr7.sample_filter["strain"] == "C57BL/6J" and "BC" in rr7.sample_filter["exclude_groups"]
    assert catalog.holdout_missions("thymus") == ["RR-23"]
    assert catalog.missions_for("thymus") == ["MHU-1", "MHU-2", "RR-6", "RR-9"]
    assert catalog.missions_for("eye") == ["RR-1", "RR-3", "TBD"]


def test_exclusions_keep_reasons(catalog):
    excluded = {e.osd: e for e in catalog.excluded}
    assert {"OSD-168", "OSD-617", "OSD-173", "OSD-25", "OSD-4", "OSD-87", "OSD-240", "OSD-241", "OSD-689",
            "OSD-793", "OSD-270", "OSD-104", "OSD-295", "OSD-335"} == set(excluded)
    assert set(excluded["OSD-168"].duplicates_of) == {"OSD-48", "OSD-137"}
    assert all(e.reason for e in excluded.values())


def test_mission_facts(catalog):
    assert catalog.missions["RR-7"].duration_days == 75
    assert catalog.missions["MHU-2"].hardware == "MHU"
    assert catalog.task_ids == {"liver": "A1", "gastrocnemius": "A2", "kidney": "A3", "thymus": "A4",
                                "skin": "A5", "eye": "A6"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("tissues: [liver]\nstudies:\n  - {osd: OSD-1, tissue: liver, mission: RR-1}\nmissions: {RR-1: {}}\n",
         r"studies\[0\] \(OSD-1\): field 'expected' is missing"),
        ("tissues: [liver]\nstudies:\n  - {osd: OSD-1, tissue: lung, mission: RR-1, expected: {flight: 1, ground: 1}}\n"
         "missions: {RR-1: {}}\n", r"field 'tissue' is 'lung'"),
        ("tissues: [liver]\nstudies:\n  - {osd: X-1, tissue: liver, mission: RR-1, expected: {flight: 1, ground: 1}}\n"
         "missions: {RR-1: {}}\n", r"field 'osd' must look like 'OSD-48', got 'X-1'"),
        ("tissues: [liver]\nstudies:\n  - {osd: OSD-1, tissue: liver, mission: RR-99, expected: {flight: 1, ground: 1}}\n"
         "missions: {RR-1: {}}\n", r"mission 'RR-99' is not listed"),
        ("tissues: [liver\n", r"not valid YAML"),
    ],
)
def test_malformed_catalog_names_file_entry_and_field(tmp_path, text, message):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert str(path) in str(info.value)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match="nope.yaml: .*file not found"):
        load_catalog(tmp_path / "nope.yaml")


def test_missions_by_osd_lists_each_accession_of_a_tissue(catalog):
    by_osd = catalog.missions_by_osd("gastrocnemius")
    assert sorted(m for ms in by_osd.values() for m in ms) == ["RR-1", "RR-5", "RR-9"]
    assert all(s.tissue == "gastrocnemius" for osd in by_osd for s in catalog.study_by_osd(osd))
    assert catalog.missions_by_osd("no-such-tissue") == {}


@pytest.mark.parametrize("text, message", [
    ("tissues: [liver]\nstudies: []\nmissions: {RR-1: {duration_days: 1.5}}\n",
     "missions.RR-1: field 'duration_days' must be a whole number 0..1000000, got 1.5"),
    ("tissues: [liver]\nstudies: []\nexcluded: [{osd: OSD-4}]\n", "excluded[0]: field 'reason' is missing or empty"),
    ("tissues: [liver]\nstudies: []\nexpected_counts: x\n",
     "field 'expected_counts' must be one of ['blocking', 'advisory'], got 'x'"),
    ("tissues: [liver]\nstudies:\n  - {osd: OSD-1, tissue: liver, mission: RR-1, expected: {flight: 1.0, ground: 1}}\n"
     "missions: {RR-1: {}}\n", "studies[0] (OSD-1): field 'expected' must hold whole numbers"),
])
def test_catalog_schema_problems_are_one_line(tmp_path, text, message):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}: {message}" or str(info.value).startswith(f"{path}: {message}")
