"""Discovery helpers moved from the refresh wiring into the science core: the benchmark's mission
name from an OSDR search hit, and the Flight/Ground counts of a study's sample table."""

import pytest

from genebench_assets.science.osdr.discovery import mission_from_hit


@pytest.mark.parametrize("hit, expected", [
    ({"Study Title": "Rodent Research-9 liver transcriptome", "Mission": "SpaceX-12"}, "RR-9"),
    ({"Study Title": "RR10 thymus", "Mission": {"Name": "SpaceX-21"}}, "RR-10"),
    ({"Study Title": "MHU-2 skin", "Mission": "SpaceX-14"}, "MHU-2"),
    ({"Study Title": "a study", "Mission": {"Name": "Bion-M1"}}, "Bion-M1"),
    ({"Study Title": "a study"}, None),
])
def test_mission_from_hit_prefers_the_rodent_mission_in_the_title(hit, expected):
    assert mission_from_hit(hit) == expected


def test_placement_requires_the_configured_quantifier_s_counts():
    """A new study with only STAR counts waits as pending under the default quantifier (RSEM, SPEC §3),
    saying so, and is placed when GENEBENCH_QUANTIFIER=STAR (what its raw_counts will then read)."""
    from genebench_assets.science.osdr.discovery import Candidate, place_candidates
    from genebench_assets.science.osdr.study_catalog import load_catalog

    star_only = Candidate(osd="OSD-999", tissue_raw="Liver", mission="RR-99", organism="Mus musculus",
                          file_names=("GLDS-999_rna_seq_STAR_Unnormalized_Counts_GLbulkRNAseq.csv",
                                      "GLDS-999_rna_seq_SampleTable_GLbulkRNAseq.csv"),
                          n_flight=4, n_ground=4, glds_prefix="GLDS-999")
    catalog = load_catalog()
    default = place_candidates([star_only], catalog)
    assert not default.new_studies and len(default.pending) == 1
    assert "STAR" in default.pending[0]["reason"] and "GENEBENCH_QUANTIFIER" in default.pending[0]["reason"]
    star = place_candidates([star_only], catalog, quantifier="STAR")
    assert [s["osd"] for s in star.new_studies] == ["OSD-999"] and not star.pending
