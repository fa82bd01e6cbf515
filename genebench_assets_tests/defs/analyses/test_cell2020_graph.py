"""cell2020_validation through the Dagster graph: the release's fGSEA / DESeq2 tables in, the published
layout out; with the published SHAP files in the output folder (as the seed read its evaluation/ folder)
the file equals the published one except its timestamp."""

import json
import shutil

import dagster as dg

from genebench_assets.defs.analyses.cell2020 import cell2020_validation
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.release.pathway_lomo import compare_to_published
from genebench_assets_tests.conftest import published_path, shared_path


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
