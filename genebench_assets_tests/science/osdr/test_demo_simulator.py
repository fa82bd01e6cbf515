import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.storage.atomic_files import sha256_file
from genebench_assets.science.osdr.demo_simulator import (
    GENE_SETS_DIR,
    GMT_NAME,
    MANIFEST_NAME,
    SIMULATED_NAME,
    SYMBOL_MAP_NAME,
    held_back_demo_studies,
    unpublish_held_back,
    write_demo_mirror,
)
from genebench_assets.science.osdr.parsing import assemble_pair, read_counts_csv, read_sample_table
from genebench_assets.science.osdr.source_files import COUNTS, RUNSHEET, SourceFile
from genebench_assets.science.osdr.strains import parse_strain
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.conftest import shared_path

N_GENES = 600  # small: the default (6,000) is for the real demo graph


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, catalog):
    root = tmp_path_factory.mktemp("demo")
    manifest = write_demo_mirror(root, catalog, seed=42, n_genes=N_GENES)
    return root, manifest


def files_for(root: Path, manifest: dict, osd: str) -> list[SourceFile]:
    entry = manifest["studies"][osd]["files"]
    out = []
    for kind, key in ((COUNTS, "counts"), (RUNSHEET, "runsheet")):
        path = root / entry[key]
        out.append(SourceFile(osd, path.name, kind, path, str(path), path.stat().st_size, sha256_file(path), "demo", ""))
    return out


def test_simulated_markers_and_layout(demo, catalog):
    root, manifest = demo
    assert manifest["simulated"] is True
    assert "SIMULATED" in (root / SIMULATED_NAME).read_text()
    assert json.loads((root / MANIFEST_NAME).read_text()) == json.loads(json.dumps(manifest))
    for study in catalog.studies:
        assert (root / study.osd / f"{study.glds_prefix}_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv").is_file()
        assert (root / study.osd / f"{study.glds_prefix}_rna_seq_bulkRNASeq_v2_runsheet.csv").is_file()
    assert (root / "OSD-686" / "GLDS-617_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv").is_file()
    for rel, sha in manifest["files"].items():
        assert sha256_file(root / rel) == sha, rel


def test_runsheet_has_the_real_runsheet_columns(demo):
    root, manifest = demo
    sheet = pd.read_csv(root / manifest["studies"]["OSD-48"]["files"]["runsheet"])
    real = pd.read_csv(shared_path("osdr_api", "GLDS-48_bulkRNASeq_v1_runsheet.csv"), nrows=0)
    assert list(sheet.columns) == list(real.columns)
    assert set(sheet["Factor Value[Spaceflight]"]) == {"Space Flight", "Ground Control", "Basal Control"}
    mhu = pd.read_csv(root / manifest["studies"]["OSD-686"]["files"]["runsheet"])
    assert set(mhu["Factor Value[Spaceflight]"]) == {"uG", "GC", "AG"}


def test_determinism_same_seed_same_bytes(demo, catalog, tmp_path):
    _, manifest = demo
    again = write_demo_mirror(tmp_path, catalog, seed=42, n_genes=N_GENES)
    assert again["files"] == manifest["files"]
    other = write_demo_mirror(tmp_path / "other", catalog, seed=7, n_genes=N_GENES)
    key = "OSD-48/GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
    assert other["files"][key] != manifest["files"][key]


def test_rerun_is_idempotent_and_rewrites_nothing(catalog, tmp_path):
    write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes
    assert not list(tmp_path.rglob("*.tmp"))
    # A damaged file is noticed (checksum against the manifest) and rewritten.
    target = tmp_path / "OSD-48" / "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])
    write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    assert target.read_bytes() == good


def test_expected_flight_ground_counts_for_every_pair(demo, catalog):
    root, manifest = demo
    faults = {f["sample"] for f in manifest["qc_faults"]}
    for tissue, mission in catalog.pairs():
        studies = catalog.studies_for(tissue, mission)
        counts, meta = assemble_pair(studies, {s.osd: files_for(root, manifest, s.osd) for s in studies})
        binary = meta[~meta["excluded"] & ~meta.index.isin(faults)]
        got = (int((binary["label"] == 1).sum()), int((binary["label"] == 0).sum()))
        want = (sum(s.expected_flight for s in studies), sum(s.expected_ground for s in studies))
        assert got == want, (tissue, mission)
        assert list(counts.columns) == list(meta.index)


def test_sample_names_carry_strain_tokens(demo, catalog):
    root, manifest = demo
    for osd, entry in manifest["studies"].items():
        for names in entry["samples_by_group"].values() if "samples_by_group" in entry else []:
            assert all(parse_strain(n) for n in names), osd
    osd254 = [n for ns in manifest["studies"]["OSD-254"]["samples_by_group"].values() for n in ns]
    strains = pd.Series([parse_strain(n) for n in osd254]).value_counts()
    assert set(strains.index) == {"C57BL/6J", "C3H/HeJ"} and strains["C57BL/6J"] == strains["C3H/HeJ"]
    gc289 = manifest["studies"]["OSD-289"]["samples_by_group"]["GC"]
    assert {parse_strain(n) for n in gc289 if "_MHU1_" in n} == {"C57BL/6NCrl"}
    assert {parse_strain(n) for n in gc289 if "_MHU2_" in n} == {"C57BL/6J"}
    names289 = [n for ns in manifest["studies"]["OSD-289"]["samples_by_group"].values() for n in ns]
    assert all(("_MHU1_" in n) != ("_MHU2_" in n) for n in names289)
    assert {parse_strain(n) for n in manifest["studies"]["OSD-137"]["samples_by_group"]["Flight"]} == {"BALB/cAnNTac"}


def test_genes_gene_sets_and_symbol_map(demo):
    root, manifest = demo
    symbol_map = pd.read_csv(root / GENE_SETS_DIR / SYMBOL_MAP_NAME)
    assert list(symbol_map.columns) == ["ENSEMBL", "SYMBOL"] and len(symbol_map) == N_GENES
    assert symbol_map["ENSEMBL"].str.fullmatch(r"ENSMUSG9\d{10}").all()
    assert symbol_map["SYMBOL"].iloc[0] == "Simg0001"
    sets = {}
    for line in (root / GENE_SETS_DIR / GMT_NAME).read_text().splitlines():
        name, _, *genes = line.split("\t")
        sets[name] = genes
    assert 25 <= len(sets) <= 35 and all(n.startswith("SIM_") for n in sets)
    assert all(15 <= len(g) <= 200 for g in sets.values())
    assert set(manifest["flight_pathways"]) <= set(sets)
    assert set().union(*sets.values()) <= set(symbol_map["SYMBOL"])
    g48 = set(read_counts_csv(root / manifest["studies"]["OSD-48"]["files"]["counts"], osd="OSD-48").index)
    g137 = set(read_counts_csv(root / manifest["studies"]["OSD-137"]["files"]["counts"], osd="OSD-137").index)
    assert g48 != g137 and len(g48) < N_GENES  # some genes absent from some studies


def test_counts_are_negative_binomial_like(demo):
    root, manifest = demo
    counts = read_counts_csv(root / manifest["studies"]["OSD-244"]["files"]["counts"], osd="OSD-244")
    lib = counts.sum()
    assert lib.between(3_000_000, 25_000_000).all()
    gc = counts[[c for c in counts.columns if "_GC_" in c]]
    mean, var = gc.mean(axis=1), gc.var(axis=1)
    high = mean > 500
    assert (var[high] > 2 * mean[high]).mean() > 0.9  # overdispersed, not Poisson


def test_planted_qc_faults(demo):
    root, manifest = demo
    faults = {f["fault"]: f for f in manifest["qc_faults"]}
    assert set(faults) == {"low_library", "low_detected_genes", "near_duplicate"}
    for fault in faults.values():
        counts = read_counts_csv(root / manifest["studies"][fault["osd"]]["files"]["counts"], osd=fault["osd"])
        col = counts[fault["sample"]]
        others = counts.drop(columns=[f["sample"] for f in manifest["qc_faults"] if f["osd"] == fault["osd"]])
        assert int(col.sum()) == fault["library_size"]
        assert fault["sample"] in manifest["studies"][fault["osd"]]["samples_by_group"][fault["group"]]
        if fault["fault"] == "low_library":
            assert col.sum() < 1_000_000 and others.sum().min() > 1_000_000
        if fault["fault"] == "low_detected_genes":
            detected = (others > 0).sum()
            assert (col > 0).sum() < 5_000 and (col > 0).sum() < 0.6 * detected.min()
        if fault["fault"] == "near_duplicate":
            log2 = np.log2(counts / counts.sum() * 1e6 + 1)
            r = np.corrcoef(log2.T.values)
            i, j = counts.columns.get_loc(fault["sample"]), counts.columns.get_loc(fault["duplicate_of"])
            assert r[i, j] >= 0.9999 and fault["pearson_r_log2"] >= 0.9999
            np.fill_diagonal(r, 0)
            r[i, j] = r[j, i] = 0
            assert r.max() < 0.9999  # no other pair looks duplicated


def test_duplicate_study_osd168(demo, catalog):
    root, manifest = demo
    assert "OSD-168" in catalog.excluded_osd() and not catalog.study_by_osd("OSD-168")
    dup = next(d for d in manifest["duplicate_studies"] if d["osd"] == "OSD-168")
    assert dup["duplicates_of"] == ["OSD-48", "OSD-137"]
    c168 = read_counts_csv(root / manifest["studies"]["OSD-168"]["files"]["counts"], osd="OSD-168")
    table = read_sample_table(root / manifest["studies"]["OSD-168"]["files"]["runsheet"], osd="OSD-168")
    assert list(table.index) == list(c168.columns)
    for source in ("OSD-48", "OSD-137"):
        orig = read_counts_csv(root / manifest["studies"][source]["files"]["counts"], osd=source)
        shared = sorted(set(orig.columns) & set(c168.columns))
        assert shared and len(shared) == orig.shape[1]
        genes = c168.index.intersection(orig.index)
        for s in shared:
            a = np.log2(orig.loc[genes, s] + 1.0)
            b = np.log2(c168.loc[genes, s] + 1.0)
            assert np.corrcoef(a, b)[0, 1] >= 0.9999


def test_listings_in_osdr_shape(demo):
    root, manifest = demo
    for osd in ("OSD-48", "OSD-686", "OSD-168"):
        listing = json.loads((root / manifest["studies"][osd]["files"]["listing"]).read_text())
        assert listing["success"] is True
        entry = listing["studies"][osd]
        assert entry["file_count"] == len(entry["study_files"]) == 2
        for f in entry["study_files"]:
            path = root / osd / f["file_name"]
            assert f["file_size"] == path.stat().st_size
            assert f["remote_url"] == f"/geode-py/ws/studies/{osd}/download?source=datamanager&file={f['file_name']}"
            assert {"category", "date_created", "restricted", "visible", "subdirectory"} <= set(f)


def _flight_separation(root, manifest, osd, tissue, mission, catalog):
    studies = [s for s in catalog.study_by_osd(osd) if s.mission == mission]
    counts, meta = assemble_pair(studies, {osd: files_for(root, manifest, osd)})
    sets = {l.split("\t")[0]: l.split("\t")[2:] for l in (root / GENE_SETS_DIR / GMT_NAME).read_text().splitlines()}
    symbols = pd.read_csv(root / GENE_SETS_DIR / SYMBOL_MAP_NAME).set_index("ENSEMBL")["SYMBOL"]
    binary = meta[~meta["excluded"] & meta["label"].notna()].index
    log2 = np.log2(counts[binary] / counts[binary].sum() * 1e6 + 1)
    z = log2.sub(log2.mean(axis=1), axis=0)
    score = 0
    for name, direction in manifest["flight_pathways"].items():
        members = log2.index.map(symbols).isin(sets[name])
        score = score + (1 if direction == "up" else -1) * z[members].mean()
    y = meta.loc[binary, "label"]
    return (score[y == 1].mean() - score[y == 0].mean()) / score.std()


def test_flight_effect_clear_in_thymus_weak_in_kidney(demo, catalog):
    # Calibrated strengths (issue 11, demo_simulator.FLIGHT_STRENGTH): thymus 0.3, kidney 0.08 (close to
    # none: the published kidney AUROC is below chance). Liver (0.18) is no longer "weak" next to thymus.
    root, manifest = demo
    thymus = _flight_separation(root, manifest, "OSD-244", "thymus", "RR-6", catalog)
    kidney = _flight_separation(root, manifest, "OSD-253", "kidney", "RR-7", catalog)
    assert thymus > 1.0 and thymus > 2 * kidney


def test_held_back_study(catalog, tmp_path):
    (held,) = held_back_demo_studies()
    assert (held.osd, held.tissue, held.mission) == ("OSD-999", "thymus", "RR-10")
    assert (held.expected_flight, held.expected_ground) == (8, 8) and "SIMULATED" in held.note
    manifest = write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    assert not (tmp_path / "OSD-999").exists() and manifest["held_back"]["published"] is False
    manifest = write_demo_mirror(tmp_path, catalog, n_genes=N_GENES, publish_held_back=True)
    assert manifest["held_back"]["published"] is True and manifest["studies"]["OSD-999"]["held_back"]
    counts, meta = assemble_pair([held], {"OSD-999": files_for(tmp_path, manifest, "OSD-999")})
    assert ((meta["label"] == 1).sum(), (meta["label"] == 0).sum()) == (8, 8)
    assert (tmp_path / "_listings" / "OSD-999.json").is_file()
    # Publishing one more study leaves every other file as it was.
    plain = write_demo_mirror(tmp_path / "plain", catalog, n_genes=N_GENES)
    for rel, sha in plain["files"].items():
        assert manifest["files"][rel] == sha, rel
    # Publication is sticky (the Dagster resource calls without publish_held_back) ...
    again = write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    assert again["held_back"]["published"] is True and (tmp_path / "OSD-999").is_dir()
    # ... until withdrawn.
    unpublish_held_back(tmp_path)
    withdrawn = write_demo_mirror(tmp_path, catalog, n_genes=N_GENES)
    assert withdrawn["held_back"]["published"] is False and "OSD-999" not in withdrawn["studies"]
    assert not (tmp_path / "OSD-999").exists() and not (tmp_path / "_listings" / "OSD-999.json").exists()


def test_small_n_genes_refused(catalog, tmp_path):
    with pytest.raises(ValueError, match="n_genes"):
        write_demo_mirror(tmp_path, catalog, n_genes=50)


def test_demo_names_look_like_genelab(demo):
    _, manifest = demo
    names = [n for e in manifest["studies"].values() for ns in e.get("samples_by_group", {}).values() for n in ns]
    assert all(re.fullmatch(r"Mmus_[A-Za-z0-9-]+_[A-Z]+_[A-Z0-9]+_[A-Za-z0-9_]+_Rep\d+_[FGVBA]\d+", n) for n in names)
