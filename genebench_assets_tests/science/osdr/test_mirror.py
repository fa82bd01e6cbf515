"""A local mirror `OSD-N/<GeneLab files>`: same selection as the live mode, provenance = file path."""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from genebench_assets.science.osdr.mirror import MirrorSource
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    NORMALIZED_COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    MissingStudyFilesError,
    StudyDataError,
)
from genebench_assets.science.osdr.study_catalog import Study
from genebench_assets_tests.conftest import shared_path

COUNTS_NAME = "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
RUNSHEET_NAME = "GLDS-48_bulkRNASeq_v1_runsheet.csv"
OSD48 = Study(osd="OSD-48", glds_prefix="GLDS-48", tissue="liver", mission="RR-1", expected_flight=7, expected_ground=7)


def write(folder: Path, name: str, text: str = "gene_id,S1\nENSMUSG00000000001,5\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_fetch_study_with_the_real_runsheet(tmp_path):
    folder = tmp_path / "mirror" / "OSD-48"
    counts = write(folder, COUNTS_NAME)
    shutil.copy(shared_path("osdr_api", RUNSHEET_NAME), folder / RUNSHEET_NAME)  # tmp copy, never in the repo
    write(folder, "GLDS-48_metadata_RR1-NASA-ISA.zip", "zip")

    files = MirrorSource(tmp_path / "mirror").fetch_study(OSD48)
    assert {f.kind: f.file_name for f in files} == {COUNTS: COUNTS_NAME, RUNSHEET: RUNSHEET_NAME}
    for f in files:
        assert f.path == folder.absolute() / f.file_name
        assert f.origin == str(f.path)
        assert f.size == f.path.stat().st_size
        assert f.sha256 == hashlib.sha256(f.path.read_bytes()).hexdigest()
        assert f.source_mode == "mirror" and f.osd == "OSD-48"
        assert datetime.fromisoformat(f.fetched_at).tzinfo is not None
    assert files[0].path == counts.absolute()


def test_demo_mode_is_recorded_and_full_sets_are_selected(tmp_path):
    folder = tmp_path / "demo_osdr" / "OSD-48"
    for name in (COUNTS_NAME, "GLDS-48_rna_seq_Normalized_Counts_GLbulkRNAseq.csv",
                 "GLDS-48_rna_seq_SampleTable_GLbulkRNAseq.csv", RUNSHEET_NAME):
        write(folder, name)
    files = MirrorSource(str(tmp_path / "demo_osdr"), source_mode="demo").fetch_study(OSD48)
    assert [f.kind for f in files] == [COUNTS, NORMALIZED_COUNTS, SAMPLE_TABLE, RUNSHEET]
    assert {f.source_mode for f in files} == {"demo"}


def test_osd_686_reads_glds_617_files(tmp_path):
    folder = tmp_path / "OSD-686"
    write(folder, "GLDS-617_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv")
    write(folder, "GLDS-617_rna_seq_SampleTable_GLbulkRNAseq.csv")
    study = Study(osd="OSD-686", glds_prefix="GLDS-617", tissue="liver", mission="MHU-2", expected_flight=3, expected_ground=3)
    files = MirrorSource(tmp_path).fetch_study(study)
    assert [f.file_name for f in files] == ["GLDS-617_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv",
                                            "GLDS-617_rna_seq_SampleTable_GLbulkRNAseq.csv"]


def test_list_files_is_sorted_and_skips_hidden_temp_files_and_folders(tmp_path):
    folder = tmp_path / "OSD-48"
    write(folder, RUNSHEET_NAME)
    write(folder, COUNTS_NAME)
    write(folder, f".{COUNTS_NAME}.abc123.tmp")  # an atomic write in progress
    (folder / "subdir").mkdir()
    assert MirrorSource(tmp_path).list_files("OSD-48") == [RUNSHEET_NAME, COUNTS_NAME]


def test_missing_study_folder_names_the_folder(tmp_path):
    with pytest.raises(MissingStudyFilesError) as info:
        MirrorSource(tmp_path).fetch_study(OSD48)
    msg = str(info.value)
    assert msg.startswith("OSD-48: ") and str(tmp_path / "OSD-48") in msg and "does not exist" in msg


def test_folder_without_the_expected_files_names_folder_and_what_is_missing(tmp_path):
    folder = tmp_path / "OSD-48"
    write(folder, RUNSHEET_NAME)
    write(folder, "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv.partial")
    with pytest.raises(MissingStudyFilesError) as info:
        MirrorSource(tmp_path, source_mode="demo").fetch_study(OSD48)
    msg = str(info.value)
    assert msg.startswith("OSD-48: ") and f"demo folder {folder.absolute()}" in msg
    assert COUNTS_NAME in msg and ".partial" in msg


def test_accession_that_is_not_a_folder_name_is_refused(tmp_path):
    with pytest.raises(StudyDataError, match="osd"):
        MirrorSource(tmp_path).list_files("../OSD-48")


def test_demo_mirror_and_live_client_yield_the_same_files(tmp_path):
    """The demo writes what the live mode downloads: serve the demo's own OSDR-shaped listing and
    files through the live client (MockTransport) and compare with reading the folder directly."""
    import json

    import httpx

    from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
    from genebench_assets.science.osdr.live_client import OsdrClient
    from genebench_assets.science.osdr.study_catalog import load_catalog

    root = tmp_path / "demo_osdr"
    manifest = write_demo_mirror(root, load_catalog(), seed=42, n_genes=400)
    listing = json.loads((root / manifest["studies"]["OSD-48"]["files"]["listing"]).read_text())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/osdr/data/osd/files/"):
            return httpx.Response(200, json=listing)
        osd, name = request.url.path.split("/")[-2], request.url.params.get("file")
        return httpx.Response(200, content=(root / osd / name).read_bytes())

    from_folder = MirrorSource(root, source_mode="demo").fetch_study(OSD48)
    with OsdrClient(tmp_path / "cache", transport=httpx.MockTransport(handler), sleep=lambda s: None) as client:
        from_live = client.fetch_study(OSD48)
    key = lambda files: [(f.kind, f.file_name, f.size, f.sha256) for f in files]  # noqa: E731
    assert key(from_live) == key(from_folder) and {f.kind for f in from_folder} == {COUNTS, RUNSHEET}


# ------------------------------------------------------------ sha256sum manifests (issue 10, item 6)
def test_manifest_verified_when_present_and_must_cover_every_file(tmp_path):
    from genebench_assets.science.osdr.source_files import DownloadError

    folder = tmp_path / "mirror" / "OSD-48"
    counts = write(folder, COUNTS_NAME)
    runsheet = write(folder, RUNSHEET_NAME, "Sample Name,Factor Value[Spaceflight]\nS1,Space Flight\n")
    sha = hashlib.sha256(counts.read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{sha} *{COUNTS_NAME}\n")  # binary-mode marker accepted
    with pytest.raises(DownloadError, match=f"{RUNSHEET_NAME}: the study's checksum manifest .* has no line"):
        MirrorSource(tmp_path / "mirror").fetch_study(OSD48)
    (folder / "SHA256SUMS").write_text(f"# made by sha256sum\n{sha}  {COUNTS_NAME}\n"
                                       f"{hashlib.sha256(runsheet.read_bytes()).hexdigest()}  ./{RUNSHEET_NAME}\n")
    assert len(MirrorSource(tmp_path / "mirror").fetch_study(OSD48)) == 2


def test_malformed_manifest_line_is_named(tmp_path):
    folder = tmp_path / "mirror" / "OSD-48"
    write(folder, COUNTS_NAME)
    write(folder, RUNSHEET_NAME, "Sample Name,Factor Value[Spaceflight]\nS1,Space Flight\n")
    (folder / "sha256sum.txt").write_text("\nnot-a-sha  " + COUNTS_NAME + "\n")
    with pytest.raises(StudyDataError, match=r"sha256sum.txt line 2 is not '<64 hex sha256>  <file name>'"):
        MirrorSource(tmp_path / "mirror").fetch_study(OSD48)


@pytest.mark.parametrize("value", ["many", 0, True])
def test_declared_gene_count_must_be_a_positive_integer(tmp_path, value):
    folder = tmp_path / "mirror" / "OSD-48"
    write(folder, COUNTS_NAME)
    write(folder, RUNSHEET_NAME, "Sample Name,Factor Value[Spaceflight]\nS1,Space Flight\n")
    (folder / "study.yaml").write_text(f"n_genes: {value}\n")
    with pytest.raises(StudyDataError, match="study.yaml: n_genes must be a positive integer"):
        MirrorSource(tmp_path / "mirror").fetch_study(OSD48)


# ---------------------------------------- real GeneLab file shapes and names through the mirror (issue 19, item 6)
from genebench_assets.science.osdr.parsing import assemble_study  # noqa: E402
from genebench_assets_tests.science.osdr import genelab_shapes as shapes  # noqa: E402

VARIANTS = [("RSEM", v, s) for v, s in sorted(shapes.RSEM_SUFFIXES.items())] + \
           [("STAR", v, s) for v, s in sorted(shapes.STAR_SUFFIXES.items())]
OSD48_12 = Study(osd="OSD-48", glds_prefix="GLDS-48", tissue="liver", mission="RR-1", expected_flight=6, expected_ground=6)


def real_shaped_folder(folder: Path, counts_name: str, *, cut: bool = False, crlf: bool = True) -> int:
    """OSD-48 laid out as OSDR serves an older study: counts with CRLF, no final newline, fractions."""
    samples, groups = shapes.rr1_samples()
    values = shapes.counts_values(samples, n_genes=60)
    data = shapes.counts_bytes(samples, values, crlf=crlf, final_newline=False)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / counts_name).write_bytes(shapes.cut_mid_line(data) if cut else data)
    (folder / RUNSHEET_NAME).write_bytes(shapes.runsheet_bytes(samples, groups, crlf=crlf))
    (folder / "study.yaml").write_text(f"n_genes: {len(values)}\n")
    return int((values % 1 != 0).sum())


@pytest.mark.parametrize("quantifier, variant, suffix", VARIANTS, ids=[v for _, v, _ in VARIANTS])
def test_each_counts_name_variant_is_read_from_a_mirror_and_its_quantifier_recorded(tmp_path, quantifier, variant, suffix):
    name = "GLDS-48" + suffix
    n_fractional = real_shaped_folder(tmp_path / "OSD-48", name)
    files = MirrorSource(tmp_path, quantifier=quantifier).fetch_study(OSD48_12)
    counts_file = next(f for f in files if f.kind == COUNTS)
    assert counts_file.file_name == name and counts_file.expected_rows == 60
    assert counts_file.provenance()["quantifier"] == quantifier
    assert "quantifier" not in next(f for f in files if f.kind == RUNSHEET).provenance()
    counts, meta = assemble_study(OSD48_12, files)
    assert counts.shape == (60, 12) and (meta["label"] == 1).sum() == 6
    assert counts.attrs["parse_report"]["n_rounded"] == n_fractional > 0
    assert counts.attrs["parse_report"]["quantifier"] == quantifier


def test_a_mirror_study_with_only_star_counts_says_so_under_the_default_setting(tmp_path):
    name = "GLDS-48" + shapes.STAR_SUFFIXES["STAR_GLbulkRNAseq"]
    real_shaped_folder(tmp_path / "OSD-48", name)
    with pytest.raises(MissingStudyFilesError) as info:
        MirrorSource(tmp_path).fetch_study(OSD48_12)
    msg = str(info.value)
    assert "\n" not in msg and f"mirror folder {tmp_path / 'OSD-48'} has only STAR counts ({name})" in msg
    assert "GENEBENCH_QUANTIFIER=STAR" in msg


def test_an_unknown_quantifier_is_refused_by_the_mirror(tmp_path):
    with pytest.raises(ValueError, match="GENEBENCH_QUANTIFIER"):
        MirrorSource(tmp_path, quantifier="kallisto")


@pytest.mark.parametrize("crlf", [True, False], ids=["CRLF", "LF"])
def test_a_mirror_counts_table_cut_mid_line_is_refused_naming_the_file(tmp_path, crlf):
    name = "GLDS-48_rna_seq_Unnormalized_Counts.csv"
    real_shaped_folder(tmp_path / "OSD-48", name, cut=True, crlf=crlf)
    files = MirrorSource(tmp_path).fetch_study(OSD48_12)
    with pytest.raises(StudyDataError) as info:
        assemble_study(OSD48_12, files)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"OSD-48: {name}: truncated: the last line (line 61)")
