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
