"""Integrity of mirror files through the real `raw_counts` asset (issue 10, item 6): a sha256sum
manifest in the study folder is verified when present; a counts table cut at a line boundary is caught
by the declared gene count, one cut inside a line by its last line's missing fields, one cut inside the
last value by the manifest (issue 19, item 6: a missing final newline alone is no fault, real GeneLab
files have none). Each planted fault fails the asset with the file and line named, and no raw_counts
table exists for the study afterwards. An older GeneLab table (old name, CRLF, no final newline,
fractional RSEM counts) is read, with the quantifier and the rounding recorded."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.science.osdr.demo_simulator import write_demo_mirror
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.defs.demo_graph import DemoGraph, materialized

COUNTS = "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    catalog = load_catalog()
    # only OSD-48 (liver RR-1), with enough genes to pass sample QC (>= 5,000 detected)
    write_demo_mirror(root, dataclasses.replace(catalog, studies=tuple(catalog.study_by_osd("OSD-48"))), n_genes=6000)
    return root


@pytest.fixture
def mirror(tmp_path, pristine) -> Path:
    root = tmp_path / "mirror"
    shutil.copytree(pristine / "OSD-48", root / "OSD-48")
    return root


def _manifest(folder: Path, name: str = "SHA256SUMS") -> Path:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
             for p in sorted(folder.iterdir()) if p.is_file() and p.name.startswith("GLDS-")]
    (folder / name).write_text("".join(lines))
    return folder / name


def _n_genes(mirror: Path) -> int:
    return len((mirror / "OSD-48" / COUNTS).read_text().splitlines()) - 1


def _raw_counts(tmp_path: Path, mirror: Path):
    graph = DemoGraph(tmp_path / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    assert graph.catalog().success  # registers the mission partitions
    result = graph.study("liver", "RR-1", keys=["raw_counts"])
    tables = [p for p in (tmp_path / "data").rglob("*") if "raw_counts" in str(p) and p.is_file()]
    return result, tables


def _error(result) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error, text = failure.event_specific_data.error, ""
    while error is not None:
        text, error = text + error.message, error.cause
    return text


def test_a_verified_mirror_passes(tmp_path, mirror):
    _manifest(mirror / "OSD-48", "sha256sum.txt")
    (mirror / "OSD-48" / "study.yaml").write_text(f"n_genes: {_n_genes(mirror)}\n")
    result, tables = _raw_counts(tmp_path, mirror)
    assert result.success and materialized(result) == ["raw_counts"] and tables


def test_file_changed_after_the_manifest_fails(tmp_path, mirror):
    _manifest(mirror / "OSD-48")
    counts = mirror / "OSD-48" / COUNTS
    data = bytearray(counts.read_bytes())
    i = data.rindex(b",") + 1
    data[i] = ord("7") if data[i] != ord("7") else ord("8")  # one count changed, same size
    counts.write_bytes(bytes(data))
    result, tables = _raw_counts(tmp_path, mirror)
    assert not result.success and tables == []
    why = _error(result)
    assert f"OSD-48: {COUNTS}: sha256 mismatch" in why and "SHA256SUMS line 1 says" in why


def test_counts_cut_at_a_line_boundary_fail_against_the_declared_gene_count(tmp_path, mirror):
    counts, n = mirror / "OSD-48" / COUNTS, _n_genes(mirror)
    lines = counts.read_text().splitlines(keepends=True)
    counts.write_text("".join(lines[: 1 + n // 2]))  # header + half the genes, cut cleanly after a newline
    (mirror / "OSD-48" / "study.yaml").write_text(f"n_genes: {n}\n")
    result, tables = _raw_counts(tmp_path, mirror)
    assert not result.success and tables == []
    assert f"OSD-48: {COUNTS}: {n // 2} gene rows, but the source declares {n}" in _error(result)


@pytest.mark.parametrize("crlf", [False, True], ids=["LF", "CRLF"])
def test_counts_cut_inside_the_last_line_fail(tmp_path, mirror, crlf):
    counts, n = mirror / "OSD-48" / COUNTS, _n_genes(mirror)
    data = counts.read_bytes().replace(b"\n", b"\r\n") if crlf else counts.read_bytes()
    data = data.rstrip(b"\r\n")
    start = data.rindex(b"\n") + 1
    counts.write_bytes(data[: start + (len(data) - start) // 2])  # the last line loses its second half
    result, tables = _raw_counts(tmp_path, mirror)
    assert not result.success and tables == []
    why = _error(result)
    assert f"OSD-48: {COUNTS}: truncated: the last line (line {n + 1})" in why


def test_counts_cut_inside_the_last_value_fail_against_the_manifest(tmp_path, mirror):
    _manifest(mirror / "OSD-48")
    counts = mirror / "OSD-48" / COUNTS
    text = counts.read_text()
    counts.write_text(text[: len(text) - 2])  # the last count loses a digit and the newline; fields still match
    result, tables = _raw_counts(tmp_path, mirror)
    assert not result.success and tables == []
    assert f"OSD-48: {COUNTS}: sha256 mismatch" in _error(result)


OLD_COUNTS = "GLDS-48_rna_seq_Unnormalized_Counts.csv"


def _as_older_pipeline_table(mirror: Path) -> int:
    """The demo counts as OSDR serves an older study: the old name, CRLF, no final newline, and RSEM
    expected counts with fractions (+0.25 rounds back half-to-even); returns how many cells got one."""
    folder = mirror / "OSD-48"
    lines = (folder / COUNTS).read_text().splitlines()
    (folder / COUNTS).unlink()
    out, n_frac = [lines[0]], 0
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")
        if i % 3 == 0:
            cells[1:] = [c + ".25" for c in cells[1:]]
            n_frac += len(cells) - 1
        out.append(",".join(cells))
    (folder / OLD_COUNTS).write_bytes("\r\n".join(out).encode())
    (folder / "study.yaml").write_text(f"n_genes: {len(lines) - 1}\n")
    return n_frac


def test_an_older_pipeline_counts_table_is_read_with_quantifier_and_rounding_recorded(tmp_path, mirror):
    import json

    n_frac = _as_older_pipeline_table(mirror)
    result, tables = _raw_counts(tmp_path, mirror)
    assert result.success and tables
    [mat] = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    assert mat.metadata["quantifier"].value == "RSEM"
    [report] = mat.metadata["parse_report"].value  # one per study of the pair
    assert report["file_name"] == OLD_COUNTS and report["n_rounded"] == n_frac and report["quantifier"] == "RSEM"
    assert report["line_endings"] == "CRLF" and report["final_newline"] is False
    [raw_files] = [p for p in (tmp_path / "data").rglob("*.json") if "raw_files" in str(p)]
    [record] = [r for r in json.loads(raw_files.read_text()) if r["kind"] == "counts"]
    assert record["file_name"] == OLD_COUNTS and record["quantifier"] == "RSEM"


def test_the_star_setting_on_a_study_with_only_rsem_counts_fails_in_one_line(tmp_path, mirror):
    _as_older_pipeline_table(mirror)
    graph = DemoGraph(tmp_path / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror), quantifier="STAR"))
    assert graph.catalog().success
    result = graph.study("liver", "RR-1", keys=["raw_counts"])
    assert not result.success
    assert f"has only RSEM counts ({OLD_COUNTS}), no STAR counts" in _error(result)


def test_gene_ids_matching_nothing_in_the_symbol_map_say_so(tmp_path, mirror):
    """Issue 10, item 8: the demo's simulated ids (ENSMUSG9...) against the real mouse symbol map used
    for mirrors: pathway_scores says no gene id mapped, naming the map, instead of "empty expression
    matrix"; no pathway score table is written."""
    from genebench_assets_tests.conftest import shared_path

    symbol_map = shared_path("genelab_release", "processed", "ensembl_symbol_map.csv")
    graph = DemoGraph(tmp_path / "data", source=OsdrSource(mode="mirror", mirror_root=str(mirror)))
    assert graph.catalog().success and graph.run(["gene_sets"]).success
    assert graph.study("liver", "RR-1").success  # the gene-level assets are fine
    result = graph.study("liver", "RR-1", keys=["pathway_scores"])
    assert not result.success
    why = _error(result)
    assert f"0 of {_n_genes(mirror)} gene ids mapped to a symbol (symbol map: {symbol_map}" in why
    assert "empty expression matrix" not in why
    assert not [p for p in (tmp_path / "data").rglob("*") if "pathway_scores" in str(p) and p.is_file()]
