"""Identifier patterns (issue 10, item 2): what becomes a path part or a partition key is strict."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.osdr.catalog_additions import load_additions, save_additions
from genebench_assets.science.osdr.discovery import Candidate, place_candidates
from genebench_assets.science.osdr.identifiers import (IdentifierError, path_inside, validate_accession,
                                                       validate_mission, validate_tissue)
from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog, study_from_dict


@pytest.mark.parametrize("mission", ["RR-1", "MHU-2", "RR-23", "TBD", "SpaceX-4"])
def test_real_mission_names_pass(mission):
    assert validate_mission(mission) == mission


@pytest.mark.parametrize("mission", ["../../../../PWNED", "RR-1/..", "RR.1", "", " RR-1", "-RR", "a" * 33,
                                     "RR 1", "RR-1\n", None, 7, ["RR-1"]])
def test_hostile_mission_names_are_refused_with_field_and_value(mission):
    with pytest.raises(IdentifierError) as exc:
        validate_mission(mission, "OSD-999/study.yaml")
    assert str(exc.value).startswith("OSD-999/study.yaml: mission ") and repr(mission)[:20] in str(exc.value)


def test_tissue_and_accession_patterns():
    assert validate_tissue("gastrocnemius", known=load_catalog().tissues) == "gastrocnemius"
    for bad in ("Liver", "../liver", "liver/x", "", "heart"):
        with pytest.raises(IdentifierError):
            validate_tissue(bad, known=load_catalog().tissues)
    assert validate_accession("OSD-48") == "OSD-48" and validate_accession("GLDS-617") == "GLDS-617"
    for bad in ("OSD-48/..", "OSD-", "osd-48", "OSD-48a", "GLDS-1", 48):
        with pytest.raises(IdentifierError):
            validate_accession(bad, kinds=("OSD",))


def test_path_inside_refuses_escape(tmp_path):
    assert path_inside(tmp_path, "tables", "x.parquet") == (tmp_path / "tables" / "x.parquet").resolve()
    with pytest.raises(IdentifierError, match="outside"):
        path_inside(tmp_path, "tables", "liver", "../../../../PWNED.parquet")


def test_every_packaged_catalog_identifier_passes():
    catalog = load_catalog()
    for s in catalog.studies:
        validate_tissue(s.tissue, known=catalog.tissues), validate_mission(s.mission)
        validate_accession(s.osd, kinds=("OSD",)), validate_accession(s.glds_prefix, kinds=("GLDS",))


ENTRY = {"osd": "OSD-999", "tissue": "thymus", "mission": "RR-10", "expected": {"flight": 8, "ground": 8}}


@pytest.mark.parametrize("field, value", [("mission", "../../../../PWNED"), ("tissue", "../thymus"),
                                          ("glds_prefix", "GLDS-999/../x")])
def test_catalog_entry_with_a_bad_identifier_is_refused(field, value):
    with pytest.raises(CatalogError) as exc:
        study_from_dict({**ENTRY, field: value}, "catalog_additions.json: studies[0]")
    assert "catalog_additions.json: studies[0]" in str(exc.value) and repr(value) in str(exc.value)


def test_additions_are_validated_on_save_and_on_load(tmp_path):
    with pytest.raises(CatalogError, match="PWNED"):
        save_additions(tmp_path, [{**ENTRY, "mission": "../../../../PWNED"}], [])
    assert not (tmp_path / "catalog_additions.json").exists()
    # A hand-edited file is refused when read, naming the file and the value.
    (tmp_path / "catalog_additions.json").write_text(json.dumps({"studies": [{**ENTRY, "mission": "../x"}]}))
    with pytest.raises(CatalogError, match=r"catalog_additions.json: studies\[0\].*mission '\.\./x'"):
        load_additions(tmp_path)


def test_placement_keeps_a_hostile_candidate_pending_with_the_reason():
    files = ("GLDS-999_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv", "GLDS-999_rna_seq_bulkRNASeq_v2_runsheet.csv")
    good = Candidate(osd="OSD-999", tissue_raw="thymus", mission="RR-10", file_names=files, n_flight=4, n_ground=4)
    bad = Candidate(osd="OSD-998", tissue_raw="thymus", mission="../../../../PWNED",
                    file_names=tuple(f.replace("999", "998") for f in files), n_flight=4, n_ground=4)
    placement = place_candidates([good, bad], load_catalog())
    assert [s["osd"] for s in placement.new_studies] == ["OSD-999"]
    assert [p["osd"] for p in placement.pending] == ["OSD-998"]
    assert "refused: study metadata: mission '../../../../PWNED'" in placement.pending[0]["reason"]
