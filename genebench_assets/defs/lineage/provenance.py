"""Explicit provenance in asset metadata (Dagster's own gives up past 100 partitions).

Every asset records: the upstream assets and partitions it read with their data versions (sha256 of
the stored file), the code version, the protocol, and the raw OSDR files behind it (accession, file
name, sha256), carried down from `raw_counts`. `genebench lineage` reads this back."""

from __future__ import annotations

from typing import Any

import dagster as dg

import genebench_assets
from genebench_assets.science.markdown_tables import markdown_table

CODE_VERSION = genebench_assets.__version__


def provenance_metadata(
    *,
    upstream: list[dict[str, Any]],
    raw_files: list[dict[str, Any]],
    protocol: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """upstream: [{asset, partition, data_version}]; raw_files: [{osd, file_name, sha256, ...}]."""
    prov = {
        "code_version": _running_code_version(),
        "package_version": CODE_VERSION,
        "protocol": protocol,
        "upstream": upstream,
        "raw_files": _dedupe_files(raw_files),
    }
    if extra:
        prov.update(extra)
    return {"provenance": dg.MetadataValue.json(prov)}


def _running_code_version() -> str | None:
    """The Dagster code version of the asset being materialized (defs/lineage/code_versions.py), so the
    provenance names the code that made the table; None outside a run."""
    try:
        context = dg.AssetExecutionContext.get()
        return context.assets_def.code_versions_by_key.get(context.asset_key)
    except Exception:  # no run in progress (a unit test calling a helper): nothing to name
        return None


def combined_version(shas: list[str]) -> str:
    """One data version for an asset that writes several tables: sha256 of their sha256s, in order."""
    import hashlib

    return hashlib.sha256("\n".join(shas).encode()).hexdigest()[:16]


def gene_sets_upstream(store) -> dict[str, Any]:
    """The upstream entry of the gene_sets asset (its manifest's version), for pathway consumers;
    data_version None when gene_sets was never materialized (the files were read directly)."""
    exists = store.exists("gene_set_files", ext="json")
    return {"asset": "gene_sets", "partition": None,
            "data_version": store.sha256("gene_set_files", ext="json")[:16] if exists else None}


def feature_inputs(store, tissue_upstream: list[dict[str, Any]], *, tissue: str, missions: list[str],
                   feature_sets: list[str], protocol: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What a tissue's model features were computed from, beyond the folds: (upstream entries,
    `feature_inputs` for the provenance). Pathway features: the gene-set files (with sha256) and the
    GSVA inputs - each study's normalized expression (strict: GSVA inside each fold, kernels fitted
    on its training samples) or each study's stored GSVA scores (seed: scored per study)."""
    from genebench_assets.science.protocols import fits_on_training_only

    upstream = list(tissue_upstream)
    inputs: dict[str, Any] = {}
    if "genes" in feature_sets:
        inputs["genes"] = {"from": [u for u in tissue_upstream if u["asset"] == "normalized_expression"]}
    if "pathways" in feature_sets:
        manifest = store.read_json("gene_set_files") if store.exists("gene_set_files", ext="json") else {"files": []}
        upstream.append(gene_sets_upstream(store))
        if not fits_on_training_only(protocol):
            gsva_inputs = []
            for mission in missions:
                for f in manifest["files"]:
                    if f["osd"].startswith("gene sets: ") and f["osd"] != "gene sets: symbol map":
                        collection = f["osd"].removeprefix("gene sets: ")
                        if store.exists("pathway_scores", collection, tissue, mission):
                            gsva_inputs.append({
                                "asset": "pathway_scores", "partition": f"{tissue}|{mission}", "collection": collection,
                                "data_version": store.sha256("pathway_scores", collection, tissue, mission)[:16]})
            upstream += gsva_inputs
            fitted = "each study on its own samples (seed protocol, SPEC §9)"
        else:
            gsva_inputs = [u for u in tissue_upstream if u["asset"] == "normalized_expression"]
            fitted = "inside each fold: kernel CDFs on the fold's training samples only"
        inputs["pathways"] = {"gene_set_files": manifest["files"], "gsva_inputs": gsva_inputs, "gsva_fitted": fitted}
    return upstream, inputs


def _dedupe_files(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in files:
        seen.setdefault((f.get("osd", ""), f.get("file_name", ""), f.get("sha256", "")), f)
    return sorted(seen.values(), key=lambda f: (f.get("osd", ""), f.get("file_name", "")))


def raw_files_markdown(files: list[dict[str, Any]]) -> str:
    return markdown_table(
        ["accession", "file", "sha256", "source", "size"],
        [[f.get("osd"), f.get("file_name"), f"`{str(f.get('sha256', ''))[:16]}…`", f.get("source_mode"), f.get("size")]
         for f in _dedupe_files(files)])


def frame_markdown(df, max_rows: int = 40) -> str:
    """A small DataFrame (its first `max_rows` rows) as a markdown table for the UI, index first."""
    df = df.head(max_rows)
    return markdown_table([df.index.name or "", *(str(c) for c in df.columns)],
                          [[str(idx), *(_fmt(v) for v in row.tolist())] for idx, row in df.iterrows()])


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def file_record(label: str, path, source_mode: str) -> dict[str, Any]:
    """A file an asset read from outside the store, as provenance lists it (path, size, sha256)."""
    from pathlib import Path

    from genebench_assets.science.storage.atomic_files import sha256_file

    path = Path(path)
    return {"osd": label, "file_name": path.name, "origin": str(path), "size": path.stat().st_size,
            "sha256": sha256_file(path), "source_mode": source_mode}


def content_version(value: Any) -> str:
    """Data version of an in-memory output (IO-manager assets): sha256 of a canonical JSON form, the
    same in every process (a DataFrame by its split JSON, a dict with sorted keys)."""
    import hashlib
    import json

    import pandas as pd

    if isinstance(value, pd.DataFrame):
        text = value.to_json(orient="split", date_format="iso", default_handler=str)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def catalog_files(catalog_source: str, data_dir) -> list[dict[str, Any]]:
    """The catalog's files: the packaged (or configured) YAML and the refresh sensor's additions."""
    from pathlib import Path

    from genebench_assets.science.osdr.catalog_additions import FILE_NAME

    paths = [Path(catalog_source), Path(data_dir) / FILE_NAME]
    return [file_record("study catalog", p, "catalog") for p in paths if p.is_file()]
