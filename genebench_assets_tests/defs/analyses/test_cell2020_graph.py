"""cell2020_validation through the Dagster graph: the release's fGSEA / DESeq2 tables in, the published
layout out; with the published SHAP files in the output folder (as the seed read its evaluation/ folder)
the file equals the published one except its timestamp; on the demo graph its gene block reads our own
gene_shap files through the read gate."""

import json
import shutil

import dagster as dg

from genebench_assets.defs.analyses.cell2020 import cell2020_validation
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import published_path, shared_path
from genebench_assets_tests.defs.analyses.test_calibration_graph import baseline  # noqa: F401 (fixture: thymus studies)


def _materialize(tmp_path, out):
    resources = {"settings": GenebenchSettings(data_dir=str(tmp_path / "data")),
                 "release_settings": ReleaseSettings(release_dir=str(shared_path("genelab_release")), out_dir=str(out))}
    return dg.materialize([cell2020_validation], resources=resources, instance=dg.DagsterInstance.ephemeral())


def test_cell2020_asset_writes_the_published_file(tmp_path):
    published_dir = published_path("genelab_evaluation")
    out = tmp_path / "out"
    out.mkdir()
    for task in ("A1", "A2", "A4"):
        shutil.copy(published_dir / f"{task}_shap_rf.json", out)
    result = _materialize(tmp_path, out)
    assert result.success
    ours = json.loads((out / "cell2020_validation.json").read_text())
    theirs = json.loads((published_dir / "cell2020_validation.json").read_text())
    ours.pop("dge_gene_validation")
    assert {v["source"] for v in ours.pop("top_genes_source").values()} == {"shap_dir", "absent"}
    assert compare_to_published(ours, theirs, ignore=("timestamp",)) == []
    meta = result.asset_materializations_for_node("cell2020_validation")[0].metadata
    files = {f["file_name"] for f in meta["provenance"].value["raw_files"]}
    assert "cell2020_reference.json" in files and "A1_shap_rf.json" in files
    assert meta["pathway_verdict"].value == "STRONG"


def test_cell2020_asset_without_shap_files(tmp_path):
    out = tmp_path / "out"
    assert _materialize(tmp_path, out).success
    ours = json.loads((out / "cell2020_validation.json").read_text())
    assert {v["status"] for v in ours["gene_validation"].values()} == {"NO_SHAP_DATA"}
    assert ours["dge_gene_validation"]["thymus"]["status"] == "VALIDATED"


def test_cell2020_reads_our_gene_shap_through_the_read_gate(baseline, tmp_path, monkeypatch):  # noqa: F811
    """On the demo graph (thymus, strict): cell2020_validation's gene block is computed from gene_shap's own
    A4_shap_rf.json, read through the read gate. The demo's genes are simulated (Simg...), so the reference
    list is planted: two of our top genes (ranks 1 and 7, one in another case) and one absent gene. A
    gene_shap file rewritten after its materialization is refused in one line and nothing is written."""
    from genebench_assets.defs.analyses.gene_shap import gene_shap_version, published_file
    from genebench_assets.science.analyses import cell2020 as science
    from genebench_assets_tests.defs.analyses.test_gene_shap_graph import graph_at
    from genebench_assets_tests.defs.demo_graph import cloned_graph
    from genebench_assets_tests.defs.gating.refusals import step_failures

    with cloned_graph(baseline, tmp_path, make_graph=graph_at) as g:
        assert g.tissue("thymus", ["lomo_folds", "gene_shap"]).success
        store = g.settings.table_store()
        ours_file = published_file(store, "thymus", "A4_shap_rf.json")
        ours = list(json.loads(ours_file.read_text())["top_genes"])
        reference = science.load_reference()
        planted = {ours[0].upper(): {"direction": "down", "function": "planted"},
                   "Notagene": {"direction": "up", "function": "planted"},
                   ours[6]: {"direction": "up", "function": "planted"}}
        reference["genes"]["thymus"] = {**reference["genes"]["thymus"], "genes": planted}
        monkeypatch.setattr(science, "load_reference", lambda *a, **k: reference)
        out = tmp_path / "out"
        g.resources["release_settings"] = ReleaseSettings(release_dir=str(shared_path("genelab_release")), out_dir=str(out))
        result = g.run(["cell2020_validation"])
        assert result.success
        doc = json.loads((out / "cell2020_validation.json").read_text())
        thymus = doc["gene_validation"]["thymus"]
        assert [(f["gene"], f["shap_rank"]) for f in thymus["found_genes"]] == [(ours[0].upper(), 1), (ours[6], 7)]
        assert thymus["overlap_rate"] == round(2 / 3, 3) and thymus["shap_top10"] == ours[:10]
        assert doc["top_genes_source"]["thymus"] == {"source": "gene_shap", "file": str(ours_file), "protocol": "strict",
                                                     "simulated": True, "data_version": gene_shap_version(store, "thymus")}
        assert doc["gene_validation"]["liver"]["status"] == "NO_SHAP_DATA"  # no gene_shap, no file in the folder
        assert doc["summary"]["gene_n_tissues"] == 1 and doc["summary"]["gene_mean_overlap"] == round(2 / 3, 3)
        meta = result.asset_materializations_for_node("cell2020_validation")[0].metadata
        assert "thymus (A4, simulated)" in meta["gene_shap_tables_read"].value
        assert "gene_shap (simulated)" in meta["gene_overlap_shap_top50"].value
        assert {"asset": "gene_shap", "partition": "thymus", "data_version": gene_shap_version(store, "thymus")} in \
            meta["provenance"].value["upstream"]
        # gene_shap's file rewritten after its materialization (by hand): refused in one line, nothing written
        ours_file.write_text(ours_file.read_text().replace(ours[0], "Ccnb1"))
        (out / "cell2020_validation.json").unlink()
        later = g.run(["cell2020_validation"])
        assert not later.success
        lines = step_failures(later)["cell2020_validation"].strip().splitlines()
        assert len(lines) == 1 and "cell2020_validation refuses gene_shap [thymus]" in lines[0], lines
        assert "not what its latest materialization recorded" in lines[0]
        assert not (out / "cell2020_validation.json").exists()
        assert len(g.instance.fetch_materializations(dg.AssetKey("cell2020_validation"), limit=5).records) == 1
