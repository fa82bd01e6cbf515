"""Which GeneLab files of a study are used (SPEC §3): first match wins, counts + a table required."""

from __future__ import annotations

import json

import pytest

from genebench_assets.science.osdr.genelab_files import (
    candidate_names,
    file_kind,
    is_safe_file_name,
    select_study_files,
)
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    NORMALIZED_COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    MissingStudyFilesError,
    StudyDataError,
)
from genebench_assets_tests.conftest import shared_path

P = "GLDS-48"
COUNTS_NEW = f"{P}_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
COUNTS_OLD = f"{P}_rna_seq_RSEM_Unnormalized_Counts.csv"
NORM_NEW = f"{P}_rna_seq_Normalized_Counts_GLbulkRNAseq.csv"
NORM_OLD = f"{P}_rna_seq_Normalized_Counts.csv"
TABLE_NEW = f"{P}_rna_seq_SampleTable_GLbulkRNAseq.csv"
TABLE_OLD = f"{P}_rna_seq_SampleTable.csv"
REAL_RUNSHEET_V1 = f"{P}_bulkRNASeq_v1_runsheet.csv"  # the real GeneLab name has no `_rna_seq`


def test_full_genelab_set_is_selected():
    names = ["GLDS-48_metadata_RR1-NASA-ISA.zip", COUNTS_NEW, NORM_NEW, TABLE_NEW, REAL_RUNSHEET_V1, "x.fastq.gz"]
    assert select_study_files("OSD-48", P, names) == {
        COUNTS: COUNTS_NEW,
        NORMALIZED_COUNTS: NORM_NEW,
        SAMPLE_TABLE: TABLE_NEW,
        RUNSHEET: REAL_RUNSHEET_V1,
    }


def test_current_names_win_over_older_ones_whatever_the_listing_order():
    names = [COUNTS_OLD, NORM_OLD, TABLE_OLD, COUNTS_NEW, NORM_NEW, TABLE_NEW]
    chosen = select_study_files("OSD-48", P, names)
    assert chosen == {COUNTS: COUNTS_NEW, NORMALIZED_COUNTS: NORM_NEW, SAMPLE_TABLE: TABLE_NEW}


def test_older_names_without_glbulkrnaseq_are_accepted():
    chosen = select_study_files("OSD-48", P, [COUNTS_OLD, TABLE_OLD, NORM_OLD])
    assert chosen == {COUNTS: COUNTS_OLD, NORMALIZED_COUNTS: NORM_OLD, SAMPLE_TABLE: TABLE_OLD}


@pytest.mark.parametrize(
    "runsheets, expected",
    [
        ([f"{P}_rna_seq_bulkRNASeq_v1_runsheet.csv", f"{P}_rna_seq_bulkRNASeq_v2_runsheet.csv"],
         f"{P}_rna_seq_bulkRNASeq_v2_runsheet.csv"),
        ([REAL_RUNSHEET_V1, f"{P}_bulkRNASeq_v2_runsheet.csv"], f"{P}_bulkRNASeq_v2_runsheet.csv"),
        ([REAL_RUNSHEET_V1], REAL_RUNSHEET_V1),
        ([f"{P}_rna_seq_bulkRNASeq_v1_runsheet.csv"], f"{P}_rna_seq_bulkRNASeq_v1_runsheet.csv"),
    ],
)
def test_runsheet_v2_wins_over_v1_with_or_without_rna_seq(runsheets, expected):
    chosen = select_study_files("OSD-48", P, [COUNTS_NEW, *runsheets])
    assert chosen[RUNSHEET] == expected
    assert SAMPLE_TABLE not in chosen


def test_real_runsheet_name_from_shared_data_is_recognised():
    real = shared_path("osdr_api", REAL_RUNSHEET_V1)
    assert file_kind(real.name) == RUNSHEET
    assert select_study_files("OSD-48", P, [COUNTS_NEW, real.name])[RUNSHEET] == real.name


def test_normalized_counts_are_optional_and_a_sample_table_alone_suffices():
    assert select_study_files("OSD-48", P, [COUNTS_NEW, TABLE_NEW]) == {COUNTS: COUNTS_NEW, SAMPLE_TABLE: TABLE_NEW}


def test_osd_686_uses_the_glds_617_prefix():
    names = ["GLDS-617_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv", "GLDS-617_rna_seq_SampleTable_GLbulkRNAseq.csv"]
    chosen = select_study_files("OSD-686", "GLDS-617", names)
    assert chosen[COUNTS].startswith("GLDS-617_")
    with pytest.raises(MissingStudyFilesError, match="OSD-686"):
        select_study_files("OSD-686", "GLDS-686", names)  # the accession number is not the file prefix


def test_other_studies_files_are_not_picked():
    names = ["GLDS-137_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv", "GLDS-137_rna_seq_SampleTable_GLbulkRNAseq.csv",
             "GLDS-480_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"]
    with pytest.raises(MissingStudyFilesError):
        select_study_files("OSD-48", P, names)


def test_missing_counts_names_study_what_is_missing_and_the_listing():
    with pytest.raises(MissingStudyFilesError) as info:
        select_study_files("OSD-48", P, [TABLE_NEW, "GLDS-48_metadata.zip"], where="the OSDR file listing https://x/48")
    msg = str(info.value)
    assert msg.startswith("OSD-48: ")
    assert "counts" in msg and COUNTS_NEW in msg
    assert "https://x/48" in msg and "GLDS-48_metadata.zip" in msg
    assert info.value.field == "kind" and info.value.value == COUNTS


def test_missing_table_is_reported():
    with pytest.raises(MissingStudyFilesError) as info:
        select_study_files("OSD-48", P, [COUNTS_NEW, NORM_NEW])
    msg = str(info.value)
    assert "sample_table or runsheet" in msg and TABLE_NEW in msg and REAL_RUNSHEET_V1 in msg
    assert COUNTS not in info.value.value.split(", ")


def test_empty_listing_and_long_listing_are_summarised_briefly():
    with pytest.raises(MissingStudyFilesError, match="no files"):
        select_study_files("OSD-48", P, [])
    many = [f"GLDS-48_rna_seq_sample{i:03d}_R1_raw.fastq.gz" for i in range(200)]
    with pytest.raises(MissingStudyFilesError) as info:
        select_study_files("OSD-48", P, many)
    assert "200 file(s)" in str(info.value) and "(192 more)" in str(info.value)
    assert len(str(info.value)) < 1500


def test_real_osd87_listing_is_a_microarray_study_without_our_files():
    listing = json.loads(shared_path("osdr_api", "osd_files_listing_OSD-87.json").read_text())
    names = [f["file_name"] for f in listing["studies"]["OSD-87"]["study_files"]]
    with pytest.raises(MissingStudyFilesError) as info:
        select_study_files("OSD-87", "GLDS-87", names)
    assert "OSD-87" in str(info.value) and "GLDS-87_microarray_14R_(Mouse430_2).CEL.gz" in str(info.value)


def test_malformed_prefix_is_refused():
    with pytest.raises(StudyDataError, match="OSD-48.*glds_prefix"):
        select_study_files("OSD-48", "../GLDS-48", [COUNTS_NEW])


def test_candidate_names_and_file_kind_agree():
    for kind, names in candidate_names("GLDS-617").items():
        assert all(file_kind(n) == kind for n in names)
    assert file_kind("GLDS-48_metadata_RR1-NASA-ISA.zip") is None
    assert file_kind("evil/GLDS-48_rna_seq_SampleTable.csv") is None


@pytest.mark.parametrize(
    "name, ok",
    [
        (COUNTS_NEW, True),
        ("GLDS-87_microarray_14R_(Mouse430_2).CEL.gz", True),
        ("../../etc/passwd", False),
        ("..", False),
        (".", False),
        ("", False),
        ("/etc/passwd", False),
        ("sub/file.csv", False),
        ("sub\\file.csv", False),
        ("C:evil.csv", False),
        ("file\x00.csv", False),
        ("a..csv", False),
        (None, False),
    ],
)
def test_is_safe_file_name(name, ok):
    assert is_safe_file_name(name) is ok


# ------------------------------------------------ real OSDR name variants and the quantifier (issue 19, item 6)
from genebench_assets.science.osdr.genelab_files import QUANTIFIERS, counts_quantifier  # noqa: E402
from genebench_assets_tests.science.osdr.genelab_shapes import RSEM_SUFFIXES, STAR_SUFFIXES  # noqa: E402


@pytest.mark.parametrize("variant", sorted(RSEM_SUFFIXES))
def test_every_rsem_counts_name_is_accepted_by_default(variant):
    name = P + RSEM_SUFFIXES[variant]
    assert file_kind(name) == COUNTS and counts_quantifier(name) == "RSEM"
    assert select_study_files("OSD-48", P, [name, TABLE_OLD])[COUNTS] == name


@pytest.mark.parametrize("variant", sorted(STAR_SUFFIXES))
def test_every_star_counts_name_is_accepted_with_the_star_setting(variant):
    name = P + STAR_SUFFIXES[variant]
    assert file_kind(name) == COUNTS and counts_quantifier(name) == "STAR"
    assert select_study_files("OSD-48", P, [name, TABLE_NEW], quantifier="STAR")[COUNTS] == name


def test_the_older_pipelines_names_of_a_real_study_are_selected():
    """OSD-100 as OSDR serves it (older GeneLab pipeline): no `RSEM`, no `_GLbulkRNAseq`."""
    names = ["GLDS-100_rna_seq_Unnormalized_Counts.csv", "GLDS-100_rna_seq_Normalized_Counts.csv",
             "GLDS-100_rna_seq_SampleTable.csv", "GLDS-100_metadata_RR1-NASA-ISA.zip"]
    assert select_study_files("OSD-100", "GLDS-100", names) == {
        COUNTS: "GLDS-100_rna_seq_Unnormalized_Counts.csv",
        NORMALIZED_COUNTS: "GLDS-100_rna_seq_Normalized_Counts.csv",
        SAMPLE_TABLE: "GLDS-100_rna_seq_SampleTable.csv",
    }


def test_preference_within_a_quantifier_and_between_quantifiers():
    rsem = [P + s for s in RSEM_SUFFIXES.values()]
    star = [P + s for s in STAR_SUFFIXES.values()]
    listing = [*reversed(rsem), *reversed(star), TABLE_NEW, f"{P}_rna_seq_Normalized_Counts_rRNArm_GLbulkRNAseq.csv"]
    assert select_study_files("OSD-48", P, listing)[COUNTS] == COUNTS_NEW  # RSEM by default, the current name
    assert select_study_files("OSD-48", P, listing, quantifier="STAR")[COUNTS] == star[0]
    # without the plain one, the rRNA-removed RSEM table comes before the older names
    assert select_study_files("OSD-48", P, listing[:3] + [TABLE_NEW])[COUNTS] == P + RSEM_SUFFIXES["RSEM_rRNArm_GLbulkRNAseq"]
    assert select_study_files("OSD-48", P, listing)[NORMALIZED_COUNTS] == f"{P}_rna_seq_Normalized_Counts_rRNArm_GLbulkRNAseq.csv"


@pytest.mark.parametrize("have, want", [("STAR", "RSEM"), ("RSEM", "STAR")])
def test_a_study_with_only_another_quantifiers_counts_says_so_in_one_line(have, want):
    other = P + (STAR_SUFFIXES["STAR_GLbulkRNAseq"] if have == "STAR" else RSEM_SUFFIXES["old_GLDS_rna_seq"])
    with pytest.raises(MissingStudyFilesError) as info:
        select_study_files("OSD-48", P, [other, TABLE_NEW], where="the OSDR file listing https://x/48", quantifier=want)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("OSD-48: the OSDR file listing https://x/48 has only ")
    assert f"only {have} counts ({other}), no {want} counts" in msg
    assert f"GENEBENCH_QUANTIFIER={have}" in msg
    assert info.value.field == "quantifier" and info.value.value == want


def test_an_unknown_quantifier_is_refused():
    assert QUANTIFIERS == ("RSEM", "STAR")
    with pytest.raises(StudyDataError) as info:
        select_study_files("OSD-48", P, [COUNTS_NEW, TABLE_NEW], quantifier="salmon")
    assert info.value.field == "quantifier" and "'salmon'" in str(info.value)


def test_candidate_names_of_each_quantifier_agree_with_file_kind():
    for q in QUANTIFIERS:
        names = candidate_names("GLDS-617", q)
        assert all(file_kind(n) == COUNTS and counts_quantifier(n) == q for n in names[COUNTS])
    assert counts_quantifier(TABLE_NEW) is None and counts_quantifier("GLDS-48_rna_seq_Normalized_Counts.csv") is None
