import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.osdr.parsing import (
    METADATA_COLUMNS,
    assemble_pair,
    assemble_study,
    read_counts_csv,
    read_sample_table,
)
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    MissingStudyFilesError,
    SourceFile,
    StudyDataError,
)
from genebench_assets.science.osdr.study_catalog import Study
from genebench_assets_tests.conftest import shared_path

OSD = "OSD-7"
COUNTS_NAME = "GLDS-7_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
RUNSHEET_NAME = "GLDS-7_rna_seq_bulkRNASeq_v2_runsheet.csv"


def write(tmp_path: Path, text: str, name: str = COUNTS_NAME) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def source(path: Path, kind: str, osd: str = OSD) -> SourceFile:
    return SourceFile(osd, path.name, kind, path, str(path), path.stat().st_size, "0" * 64, "mirror", "2026-01-01T00:00:00Z")


def study(**kw) -> Study:
    base = dict(osd=OSD, glds_prefix="GLDS-7", tissue="liver", mission="RR-1", expected_flight=2, expected_ground=2)
    base.update(kw)
    return Study(**base)


def assert_names(err: pytest.ExceptionInfo, *parts: str) -> None:
    msg = str(err.value)
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"


# ---------------------------------------------------------------------------------- counts
def test_counts_unnamed_gene_column_int64(tmp_path):
    path = write(tmp_path, '"","S1","S2"\nENSMUSG00000000001,10,0\nENSMUSG00000000028,3,7\n')
    df = read_counts_csv(path, osd=OSD)
    assert df.index.name == "gene_id"
    assert list(df.columns) == ["S1", "S2"]
    assert (df.dtypes == np.int64).all()
    assert df.loc["ENSMUSG00000000028", "S2"] == 7
    assert df.attrs["parse_report"]["n_rounded"] == 0


def test_counts_named_gene_column_and_blank_trailing_line(tmp_path):
    path = write(tmp_path, "gene_id,S1\nG1,1\n\n")
    assert read_counts_csv(path, osd=OSD).shape == (1, 1)


def test_fractional_rsem_counts_are_rounded_half_to_even_and_reported(tmp_path):
    path = write(tmp_path, ",S1,S2\nG1,0.5,1.5\nG2,2.5,3.2\nG3,4,5.0\n")
    df = read_counts_csv(path, osd=OSD)
    assert df.to_dict("list") == {"S1": [0, 2, 4], "S2": [2, 3, 5]}
    report = df.attrs["parse_report"]
    assert report["n_rounded"] == 4 and report["file_name"] == COUNTS_NAME
    assert report["max_abs_rounding"] == pytest.approx(0.5)


def test_fractional_counts_can_be_refused(tmp_path):
    path = write(tmp_path, ",S1\nG1,2.25\n")
    with pytest.raises(StudyDataError) as err:
        read_counts_csv(path, osd=OSD, fractional="error")
    assert_names(err, OSD, COUNTS_NAME, "G1", "S1", "2.25")


BAD_COUNTS = {
    "negative": (",S1,S2\nG1,1,2\nG2,-3,4\n", ["negative count", "G2", "S1", "-3"]),
    "non_numeric": (",S1,S2\nG1,1,2\nG2,3,abc\n", ["non-numeric", "G2", "S2", "'abc'"]),
    "empty_cell": (",S1,S2\nG1,1,\nG2,3,4\n", ["missing", "G1", "S2", "''"]),
    "na_cell": (",S1,S2\nG1,1,NA\n", ["missing", "G1", "S2", "'NA'"]),
    "nan_cell": (",S1,S2\nG1,1,nan\n", ["G1", "S2", "nan"]),
    "inf_cell": (",S1,S2\nG1,1,inf\n", ["G1", "S2", "inf"]),
    "ragged_long": (",S1,S2\nG1,1,2\nG2,3,4,5\n", ["malformed CSV", "line 3", "4 fields", "G2,3,4,5"]),
    "ragged_short": (",S1,S2\nG1,1,2\nG2,3\n", ["malformed CSV", "line 3", "2 fields", "G2,3"]),
    "unterminated_quote": (',S1,S2\nG1,1,2\nG2,3,"4\n', ["malformed CSV"]),
    "empty_file": ("", ["empty file"]),
    "blank_file": ("\n\n  \n", ["empty file"]),
    "header_only": (",S1,S2\n", ["header only", "',S1,S2'"]),
    "duplicate_samples": (",S1,S2,S1\nG1,1,2,3\n", ["duplicated sample ids", "'S1'"]),
    "duplicate_genes": (",S1\nG1,1\nG1,2\n", ["duplicated gene ids", "'G1'"]),
    "no_sample_columns": ("gene\nG1\n", ["no sample columns"]),
}


@pytest.mark.parametrize("case", sorted(BAD_COUNTS))
def test_bad_counts_name_study_file_and_value(tmp_path, case):
    text, parts = BAD_COUNTS[case]
    path = write(tmp_path, text)
    with pytest.raises(StudyDataError) as err:
        read_counts_csv(path, osd=OSD)
    assert_names(err, OSD, COUNTS_NAME, *parts)
    assert err.value.osd == OSD and err.value.file_name == COUNTS_NAME


# ------------------------------------------------------------------------------ sample tables
def test_real_glds48_runsheet():
    path = shared_path("osdr_api", "GLDS-48_bulkRNASeq_v1_runsheet.csv")
    table = read_sample_table(path, osd="OSD-48")
    assert table.index.name == "sample_id" and len(table) == 14
    assert table.loc["Mmus_C57-6J_LVR_FLT_I_Rep1_M21", "group_raw"] == "Space Flight"
    assert (table["group_raw"] == "Ground Control").sum() == 7
    assert set(table["table_layout"]) == {"runsheet"}
    assert table["original_sample_name"].tolist() == table.index.tolist()


def test_real_glds48_runsheet_assembles(tmp_path):
    sheet = shared_path("osdr_api", "GLDS-48_bulkRNASeq_v1_runsheet.csv")
    names = pd.read_csv(sheet)["Sample Name"].tolist()
    counts = pd.DataFrame(np.arange(3 * len(names)).reshape(3, -1), index=["G1", "G2", "G3"], columns=names[::-1])
    counts_path = tmp_path / "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
    counts.to_csv(counts_path, index_label="")
    s = study(osd="OSD-48", glds_prefix="GLDS-48", expected_flight=7, expected_ground=7)
    c, meta = assemble_study(s, [source(counts_path, COUNTS, "OSD-48"), source(sheet, RUNSHEET, "OSD-48")])
    assert (meta["label"] == 1).sum() == 7 and (meta["label"] == 0).sum() == 7
    assert list(c.columns) == list(meta.index) == names[::-1]  # counts order
    assert set(meta["strain"]) == {"C57BL/6J"}


@pytest.mark.parametrize(
    "text, expected",
    [
        # R write.csv of GeneLab's SampleTable: row names in an unnamed first column.
        ('"","condition"\n"A1","Space Flight & Upon euthanasia"\n"A2","Ground Control & Carcass"\n',
         {"A1": "Space Flight", "A2": "Ground Control"}),
        ('"","sample","condition"\n"1","A1","(Space Flight & Upon euthanasia)"\n"2","A2","(Ground Control)"\n',
         {"A1": "Space Flight", "A2": "Ground Control"}),
        ("sample,group\nA1,uG\nA2,AG\n", {"A1": "uG", "A2": "AG"}),
        ("Sample Name,Factor Value[ Spaceflight ]\nA1,Basal Control\n", {"A1": "Basal Control"}),
    ],
)
def test_sample_table_layouts(tmp_path, text, expected):
    path = write(tmp_path, text, "GLDS-7_rna_seq_SampleTable_GLbulkRNAseq.csv")
    table = read_sample_table(path, osd=OSD)
    assert table["group_raw"].to_dict() == expected


BAD_TABLES = {
    "no_group_column": ("Sample Name,organism\nA1,Mus musculus\n", ["no group column", "organism"]),
    "duplicate_samples": ("Sample Name,Factor Value[Spaceflight]\nA1,Space Flight\nA1,Ground Control\n",
                          ["duplicated sample ids", "'A1'"]),
    "empty": ("", ["empty file"]),
    "header_only": ("Sample Name,Factor Value[Spaceflight]\n", ["header only"]),
    "ragged": ("Sample Name,Factor Value[Spaceflight]\nA1,Space Flight,extra\n", ["malformed CSV", "line 2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_sample_tables_name_study_file_and_value(tmp_path, case):
    text, parts = BAD_TABLES[case]
    path = write(tmp_path, text, RUNSHEET_NAME)
    with pytest.raises(StudyDataError) as err:
        read_sample_table(path, osd=OSD)
    assert_names(err, OSD, RUNSHEET_NAME, *parts)


# ----------------------------------------------------------------------------------- assembly
SAMPLES = {
    "Mmus_C57-6J_SKN_FLT_Rep1_F1": "Space Flight",
    "Mmus_C3H-HeJ_SKN_FLT_Rep2_F2": "Space Flight",
    "Mmus_C57-6J_SKN_GC_Rep1_G1": "Ground Control",
    "Mmus_C57-6J_SKN_VIV_Rep1_V1": "Vivarium Control",
    "Mmus_C57-6J_SKN_BSL_Rep1_B1": "Basal Control",
    "Mmus_C3H-HeJ_SKN_GC_Rep2_G2": "Ground Control",
}


def study_files(tmp_path: Path, samples: dict[str, str], genes=("G1", "G2", "G3"), osd=OSD, prefix="GLDS-7"):
    folder = tmp_path / osd
    folder.mkdir(exist_ok=True)
    counts = pd.DataFrame(
        np.arange(len(genes) * len(samples)).reshape(len(genes), -1) + 1, index=list(genes), columns=list(samples)
    )
    cpath = folder / f"{prefix}_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
    counts.to_csv(cpath, index_label="")
    rpath = folder / f"{prefix}_rna_seq_bulkRNASeq_v2_runsheet.csv"
    pd.DataFrame({"Sample Name": list(samples), "Factor Value[Spaceflight]": list(samples.values())}).to_csv(
        rpath, index=False
    )
    return [source(cpath, COUNTS, osd), source(rpath, RUNSHEET, osd)]


def test_assemble_contract_and_non_binary_groups_kept_excluded(tmp_path):
    counts, meta = assemble_study(study(site="dorsal"), study_files(tmp_path, SAMPLES))
    assert list(meta.columns) == METADATA_COLUMNS
    assert meta.index.name == "sample_id" and counts.index.name == "gene_id"
    assert list(counts.columns) == list(meta.index) == list(SAMPLES)
    assert (counts.dtypes == np.int64).all()
    bsl = meta.loc["Mmus_C57-6J_SKN_BSL_Rep1_B1"]
    assert bsl["group"] == "BC" and bool(bsl["excluded"]) and "BC" in bsl["exclusion_reason"] and math.isnan(bsl["label"])
    kept = meta[~meta["excluded"]]
    assert (kept["exclusion_reason"] == "").all()
    assert meta.loc["Mmus_C3H-HeJ_SKN_FLT_Rep2_F2", "strain"] == "C3H/HeJ"
    assert meta.loc["Mmus_C57-6J_SKN_VIV_Rep1_V1", ["group", "label"]].tolist() == ["VC", 0.0]
    assert set(meta["site"]) == {"dorsal"} and set(meta["source_file"]) == {COUNTS_NAME}
    assert meta["excluded"].dtype == bool and meta["label"].dtype == np.float64


def test_sample_filter_strain_and_exclude_groups_drop_samples_with_reasons(tmp_path):
    s = study(sample_filter={"strain": "C57BL/6J", "exclude_groups": ["BC"]})
    counts, meta = assemble_study(s, study_files(tmp_path, SAMPLES))
    assert list(meta.index) == [
        "Mmus_C57-6J_SKN_FLT_Rep1_F1", "Mmus_C57-6J_SKN_GC_Rep1_G1", "Mmus_C57-6J_SKN_VIV_Rep1_V1"
    ]
    assert list(counts.columns) == list(meta.index)
    dropped = meta.attrs["dropped_samples"]
    assert "strain" in dropped["Mmus_C3H-HeJ_SKN_GC_Rep2_G2"]
    assert "exclude_groups" in dropped["Mmus_C57-6J_SKN_BSL_Rep1_B1"]


def test_name_token_filter(tmp_path):
    samples = {
        "Mmus_C57-6J_TMS_MHU1_FLT_uG_Rep1": "uG",
        "Mmus_C57-6CR_TMS_MHU1_GC_Rep1": "GC",
        "Mmus_C57-6J_TMS_MHU2_FLT_uG_Rep1": "uG",
        "Mmus_C57-6J_TMS_MHU2_AG_Rep1": "AG",
    }
    files = study_files(tmp_path, samples)
    _, m1 = assemble_study(study(mission="MHU-1", sample_filter={"name_token": "MHU1"}), files)
    assert list(m1.index) == list(samples)[:2] and m1["strain"].tolist() == ["C57BL/6J", "C57BL/6NCrl"]
    _, m2 = assemble_study(study(mission="MHU-2", sample_filter={"name_token": "MHU2"}), files)
    assert m2["group"].tolist() == ["Flight", "AG"] and m2["excluded"].tolist() == [False, True]


def test_strain_filter_needs_strain_tokens(tmp_path):
    files = study_files(tmp_path, {"GSM1": "Space Flight", "GSM2": "Ground Control"})
    with pytest.raises(StudyDataError) as err:
        assemble_study(study(sample_filter={"strain": "C57BL/6J"}), files)
    assert_names(err, OSD, "GSM1")


def test_filter_leaving_nothing_is_an_error(tmp_path):
    with pytest.raises(StudyDataError, match="leaves no samples"):
        assemble_study(study(sample_filter={"name_token": "MHU9"}), study_files(tmp_path, SAMPLES))


def test_unknown_group_label_names_study_file_sample_and_value(tmp_path):
    samples = dict(SAMPLES, **{"Mmus_C57-6J_SKN_X_Rep1_X1": "Hindlimb Unloaded"})
    with pytest.raises(StudyDataError) as err:
        assemble_study(study(), study_files(tmp_path, samples))
    assert_names(err, OSD, RUNSHEET_NAME, "Mmus_C57-6J_SKN_X_Rep1_X1", "'Hindlimb Unloaded'")


def test_counts_and_table_sample_mismatch_names_the_ids(tmp_path):
    files = study_files(tmp_path, SAMPLES)
    sheet = pd.read_csv(files[1].path)
    sheet.loc[0, "Sample Name"] = "Mmus_C57-6J_SKN_FLT_Rep9_F9"
    sheet.to_csv(files[1].path, index=False)
    with pytest.raises(StudyDataError) as err:
        assemble_study(study(), files)
    assert_names(err, OSD, COUNTS_NAME, RUNSHEET_NAME, "Mmus_C57-6J_SKN_FLT_Rep1_F1", "Mmus_C57-6J_SKN_FLT_Rep9_F9")


def test_duplicated_sample_ids_in_counts_through_assembly(tmp_path):
    files = study_files(tmp_path, SAMPLES)
    text = files[0].path.read_text().replace("Mmus_C3H-HeJ_SKN_FLT_Rep2_F2", "Mmus_C57-6J_SKN_FLT_Rep1_F1", 1)
    files[0].path.write_text(text)
    with pytest.raises(StudyDataError) as err:
        assemble_study(study(), files)
    assert_names(err, OSD, COUNTS_NAME, "duplicated sample ids", "Mmus_C57-6J_SKN_FLT_Rep1_F1")


def test_missing_files(tmp_path):
    files = study_files(tmp_path, SAMPLES)
    with pytest.raises(MissingStudyFilesError, match="OSD-7.*runsheet"):
        assemble_study(study(), files[:1])
    with pytest.raises(MissingStudyFilesError, match="OSD-7.*counts"):
        assemble_study(study(), files[1:])


def test_sample_table_used_when_no_runsheet(tmp_path):
    files = study_files(tmp_path, SAMPLES)
    table = tmp_path / "GLDS-7_rna_seq_SampleTable_GLbulkRNAseq.csv"
    pd.DataFrame({"condition": [f"{g} & Upon euthanasia" for g in SAMPLES.values()]}, index=list(SAMPLES)).to_csv(table)
    _, meta = assemble_study(study(), [files[0], source(table, SAMPLE_TABLE)])
    assert meta["group"].tolist() == ["Flight", "Flight", "GC", "VC", "BC", "GC"]


def test_assemble_pair_outer_joins_genes_as_float_with_nan(tmp_path):
    a = study(osd="OSD-238", glds_prefix="GLDS-238", tissue="skin", mission="MHU-2", site="dorsal")
    b = study(osd="OSD-239", glds_prefix="GLDS-239", tissue="skin", mission="MHU-2", site="femoral")
    fa = study_files(tmp_path, {"Mmus_C57-6J_DSKN_FLT_uG_Rep1": "uG", "Mmus_C57-6J_DSKN_GC_Rep1": "GC"},
                     genes=("G1", "G2", "G3"), osd="OSD-238", prefix="GLDS-238")
    fb = study_files(tmp_path, {"Mmus_C57-6J_FSKN_FLT_uG_Rep1": "uG", "Mmus_C57-6J_FSKN_GC_Rep1": "GC"},
                     genes=("G2", "G3", "G4"), osd="OSD-239", prefix="GLDS-239")
    counts, meta = assemble_pair([a, b], {"OSD-238": fa, "OSD-239": fb})
    assert counts.index.name == "gene_id" and set(counts.index) == {"G1", "G2", "G3", "G4"}
    assert (counts.dtypes == np.float64).all()
    assert math.isnan(counts.loc["G4", "Mmus_C57-6J_DSKN_GC_Rep1"]) and math.isnan(counts.loc["G1", "Mmus_C57-6J_FSKN_GC_Rep1"])
    assert counts.loc["G2"].notna().all()
    assert meta["osd"].tolist() == ["OSD-238"] * 2 + ["OSD-239"] * 2
    assert meta["site"].tolist() == ["dorsal"] * 2 + ["femoral"] * 2
    assert list(counts.columns) == list(meta.index)

    single_counts, _ = assemble_pair([a], {"OSD-238": fa})
    assert (single_counts.dtypes == np.int64).all()


def test_assemble_pair_duplicate_sample_across_studies(tmp_path):
    a = study(osd="OSD-48", glds_prefix="GLDS-48")
    b = study(osd="OSD-168", glds_prefix="GLDS-168")
    samples = {"Mmus_C57-6J_LVR_FLT_Rep1_M1": "Space Flight", "Mmus_C57-6J_LVR_GC_Rep1_M2": "Ground Control"}
    fa = study_files(tmp_path, samples, osd="OSD-48", prefix="GLDS-48")
    fb = study_files(tmp_path, samples, osd="OSD-168", prefix="GLDS-168")
    with pytest.raises(StudyDataError) as err:
        assemble_pair([a, b], {"OSD-48": fa, "OSD-168": fb})
    assert_names(err, "OSD-168", "OSD-48", "Mmus_C57-6J_LVR_FLT_Rep1_M1")


# ------------------------------------------- counts shaped like OSDR's older GeneLab tables (issue 19, item 6)
from genebench_assets.science.expression.normalization import deseq2_size_factors  # noqa: E402
from genebench_assets_tests.science.osdr import genelab_shapes as shapes  # noqa: E402

OLD_NAME = "GLDS-7_rna_seq_Unnormalized_Counts.csv"


def write_bytes(tmp_path: Path, data: bytes, name: str = OLD_NAME) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("crlf, final_newline", [(True, False), (True, True), (False, False), (False, True)])
def test_crlf_and_no_final_newline_are_read_when_the_last_row_is_complete(tmp_path, crlf, final_newline):
    samples, _ = shapes.rr1_samples()
    values = shapes.counts_values(samples)
    data = shapes.counts_bytes(samples, values, crlf=crlf, final_newline=final_newline)
    assert data.endswith(b"\r\n" if final_newline and crlf else b"\n" if final_newline else b"")
    df = read_counts_csv(write_bytes(tmp_path, data), osd=OSD, expected_genes=len(values))
    assert list(df.columns) == samples and list(df.index) == shapes.gene_ids(len(values))
    assert (df.to_numpy() == np.rint(values)).all() and (df.dtypes == np.int64).all()
    report = df.attrs["parse_report"]
    assert report["line_endings"] == ("CRLF" if crlf else "LF") and report["final_newline"] is final_newline
    assert report["n_rounded"] == int((values % 1 != 0).sum()) > 0  # every fractional cell counted


def test_rsem_expected_counts_rounded_then_size_factors_equal_an_independent_median_of_ratios(tmp_path):
    """The whole older-pipeline path: CRLF, no final newline, fractions -> rounded half-to-even (as
    DESeq2 users do with RSEM expected counts) -> size factors equal to a median-of-ratios computed here."""
    samples, _ = shapes.rr1_samples()
    values = shapes.counts_values(samples, n_genes=300, seed=3)
    df = read_counts_csv(write_bytes(tmp_path, shapes.counts_bytes(samples, values)), osd=OSD)
    expected = shapes.median_of_ratios(np.rint(values))
    np.testing.assert_allclose(deseq2_size_factors(df).to_numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("crlf", [True, False])
def test_a_counts_table_cut_mid_line_is_refused_in_one_line(tmp_path, crlf):
    samples, _ = shapes.rr1_samples()
    values = shapes.counts_values(samples)
    cut = shapes.cut_mid_line(shapes.counts_bytes(samples, values, crlf=crlf, final_newline=True))
    with pytest.raises(StudyDataError) as err:
        read_counts_csv(write_bytes(tmp_path, cut), osd=OSD)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{OSD}: {OLD_NAME}: truncated: the last line (line {len(values) + 1})")
    assert f"of the header's {len(samples) + 1} fields" in msg and err.value.field == f"line {len(values) + 1}"


def test_a_short_row_before_the_end_stays_a_malformed_row_not_a_truncation(tmp_path):
    path = write_bytes(tmp_path, b'"","S1","S2"\r\n"G1",1,2\r\n"G2",3\r\n"G3",4,5')
    with pytest.raises(StudyDataError) as err:
        read_counts_csv(path, osd=OSD)
    assert_names(err, OSD, OLD_NAME, "malformed CSV", "line 3", "2 fields")
    assert "truncated" not in str(err.value)


def test_a_crlf_table_cut_at_a_line_boundary_is_caught_by_the_declared_gene_count(tmp_path):
    samples, _ = shapes.rr1_samples()
    values = shapes.counts_values(samples)
    data = shapes.counts_bytes(samples, values)
    cut = data[: data.index(b"\r\n", len(data) // 2)]  # whole lines only, as a copy stopped after a line
    n = cut.count(b"\r\n")
    path = write_bytes(tmp_path, cut)
    assert read_counts_csv(path, osd=OSD).shape[0] == n  # alone it looks like a smaller table...
    with pytest.raises(StudyDataError) as err:
        read_counts_csv(path, osd=OSD, expected_genes=len(values))
    assert_names(err, OSD, OLD_NAME, f"{n} gene rows, but the source declares {len(values)}", f"last data line {n + 1}")


def test_a_crlf_runsheet_without_final_newline_is_read_and_a_cut_one_refused(tmp_path):
    samples, groups = shapes.rr1_samples()
    data = shapes.runsheet_bytes(samples, groups).rstrip(b"\r\n")
    assert read_sample_table(write_bytes(tmp_path, data, RUNSHEET_NAME), osd=OSD)["group_raw"].tolist() == groups
    cut = data[: data.rindex(b",")]  # the last row loses its group
    with pytest.raises(StudyDataError) as err:
        read_sample_table(write_bytes(tmp_path, cut, RUNSHEET_NAME), osd=OSD)
    assert_names(err, OSD, RUNSHEET_NAME, "truncated", f"line {len(samples) + 1}")


def test_the_quantifier_of_the_counts_file_is_recorded_in_the_parse_report(tmp_path):
    samples, groups = shapes.rr1_samples()
    counts = write_bytes(tmp_path, shapes.counts_bytes(samples, shapes.counts_values(samples)))
    sheet = write_bytes(tmp_path, shapes.runsheet_bytes(samples, groups), RUNSHEET_NAME)
    counts_file = dataclasses.replace(source(counts, COUNTS), quantifier="RSEM")
    c, meta = assemble_study(study(expected_flight=6, expected_ground=6), [counts_file, source(sheet, RUNSHEET)])
    report = c.attrs["parse_report"]
    assert report["quantifier"] == "RSEM" and report["file_name"] == OLD_NAME and report["n_rounded"] > 0
    assert (meta["label"] == 1).sum() == 6 and set(meta["source_file"]) == {OLD_NAME}
