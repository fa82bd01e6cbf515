"""``cell2020_validation`` (issue 21): the Cell 2020 external validation from the release's fGSEA and
DESeq2 tables, written as ``cell2020_validation.json`` in the published layout. The gene block reads our
own top SHAP genes, gene_shap's ``A{n}_shap_rf.json`` of the run's protocol, through the read gate where a
tissue has them; else ``A{n}_shap_rf.json`` from the output folder when there (as the seed read its
evaluation/ folder); else records NO_SHAP_DATA. The metadata says which, per tissue. Science:
``science/analyses/cell2020.py``; the reference lists are ``science/analyses/cell2020_reference.json``
(data, with their source)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from genebench_assets.defs.analyses.assets import GROUP, release_file_records
from genebench_assets.defs.analyses.gene_shap import gene_shap, read_checked_gene_shap
from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import frame_markdown, provenance_metadata
from genebench_assets.defs.release.resources import ReleaseSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.science.storage.atomic_files import sha256_file, write_json
from genebench_assets.science.storage.table_store import TableStore


@dg.asset(code_version=code_version_of(__file__, "cell2020_validation"), group_name=GROUP, deps=[gene_shap],
          description="cell2020_validation.json: direction concordance of the expected Hallmark pathways "
          "(mean fGSEA NES per tissue, release) and overlap of the reference genes with the SHAP top 50 "
          "(our gene_shap's A{n}_shap_rf.json of the run's protocol, read through the read gate; else "
          "A{n}_shap_rf.json in the output folder, when present) against the Beheshti et al. (Cell 2020) "
          "consensus lists of the seed; plus the reference genes in the release's DESeq2 tables (ours).")
def cell2020_validation(context, settings: GenebenchSettings, release_settings: ReleaseSettings) -> dg.MaterializeResult:
    from genebench_assets.science.analyses import cell2020

    release_dir = release_settings.checked_release_dir()
    out_dir = Path(release_settings.out_dir)
    reference = cell2020.load_reference()
    # Our top SHAP genes per tissue, through the read gate (refused in one line before anything is written).
    ours = read_checked_gene_shap(context, settings.table_store(), list(reference["genes"]))
    result = cell2020.cell2020_validation(release_dir, shap_dir=out_dir, ours={t: o["file"] for t, o in ours.items()},
                                          reference=reference)
    for tissue, o in ours.items():  # where our top genes came from (the demo's are simulated)
        result["top_genes_source"][tissue].update(protocol=o["protocol"], simulated=o["simulated"],
                                                  data_version=o["data_version"])
    store = TableStore(settings.data_dir)
    _, sha = store.write_json({**result, "timestamp": ""}, "cell2020_validation")  # versioned on content
    result["timestamp"] = datetime.now().isoformat()
    out = write_json(result, out_dir / cell2020.FILENAME, sort_keys=False, indent=2)
    inputs = [p for t in reference["pathways"] for p in cell2020.fgsea_hallmark_files(release_dir, t)]
    inputs += [p for t in reference["genes"] for p in cell2020.dge_files(release_dir, t)]
    sources = result["top_genes_source"]
    shap = [Path(v["file"]) for v in sources.values() if v["source"] == cell2020.SOURCE_FOLDER]
    raw = release_file_records(release_dir, inputs) + [
        {"osd": "genebench", "file_name": cell2020.REFERENCE_FILE.name, "origin": str(cell2020.REFERENCE_FILE),
         "size": cell2020.REFERENCE_FILE.stat().st_size, "sha256": sha256_file(cell2020.REFERENCE_FILE),
         "source_mode": "reference list (seed scripts/cell2020_validation.py)"}] + [
        {"osd": "SHAP", "file_name": p.name, "origin": str(p), "size": p.stat().st_size,
         "sha256": sha256_file(p), "source_mode": "output folder"} for p in shap]
    upstream = [{"asset": "gene_shap", "partition": t, "data_version": o["data_version"]} for t, o in ours.items()]
    table = pd.DataFrame({t: {"concordance_rate": v.get("concordance_rate"), "n_found": v.get("n_found")}
                          for t, v in result["pathway_validation"].items()}).T
    genes = pd.DataFrame({t: {"status": v["status"], "overlap_rate": v.get("overlap_rate"),
                              "top_genes_from": sources[t]["source"] + (" (simulated)" if sources[t].get("simulated") else "")}
                          for t, v in result["gene_validation"].items()}).T
    ours_note = (f"{settings.protocol} protocol: " + ", ".join(
        f"{t} ({o['task_id']}{', simulated' if o['simulated'] else ''})" for t, o in ours.items())) if ours else (
        f"none under the {settings.protocol} protocol (materialize gene_shap for the tissue): the gene block read "
        "A{n}_shap_rf.json from the output folder where present, else NO_SHAP_DATA")
    dge = pd.DataFrame({t: {"direction_concordance": v.get("direction_concordance"), "n_in_top50": v.get("n_in_top50"),
                            "n_reference_genes": v.get("n_reference_genes")}
                        for t, v in result["dge_gene_validation"].items()}).T
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"result_file": str(out), "table_sha256": sha,
                  **{k: v for k, v in result["summary"].items() if not isinstance(v, str) or k == "pathway_verdict"},
                  "pathway_concordance": dg.MetadataValue.md(frame_markdown(table)),
                  "gene_overlap_shap_top50": dg.MetadataValue.md(frame_markdown(genes)),
                  "gene_shap_tables_read": ours_note,
                  "gene_direction_deseq2": dg.MetadataValue.md(frame_markdown(dge)),
                  # the release's blocks follow the seed's rules; our gene_shap tables are the run's protocol's
                  **provenance_metadata(upstream=upstream, raw_files=raw, protocol=settings.protocol if ours else "seed")})


cell2020_job = dg.define_asset_job(
    "cell2020_validation_job", selection=dg.AssetSelection.assets(cell2020_validation),
    description="cell2020_validation.json from the release's fGSEA / DESeq2 tables (genebench reproduce analyses).")
