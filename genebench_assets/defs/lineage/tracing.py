"""Lineage of a reported AUROC: evaluation -> predictions -> folds -> features -> normalized matrices ->
raw OSDR files (accession, file name, sha256, source mode, fetched when).

`lineage_from_instance` reads only what the Dagster instance recorded (each asset's `provenance`
metadata, its data version and run); it recomputes nothing."""

from __future__ import annotations

from typing import Any

import dagster as dg

from genebench_assets.defs.lineage.provenance import raw_files_markdown
from genebench_assets.science.markdown_tables import markdown_table


def partition_key(asset: str, partition: str) -> str | dg.MultiPartitionKey:
    """Our provenance writes 'tissue|mission' (or 'tissue|collection' for release assets);
    Dagster's multi-partition key orders the dimensions by name."""
    if "|" in partition:
        tissue, second = partition.split("|", 1)
        dim = "collection" if asset.startswith("release_") else "mission"
        return dg.MultiPartitionKey({"tissue": tissue, dim: second})
    return partition


def latest_materialization(instance: dg.DagsterInstance, asset: str, partition: str | None):
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(asset),
            asset_partitions=[str(partition_key(asset, partition))] if partition else None,
        ),
        limit=1,
    ).records
    return records[0] if records else None


def _node(record, asset: str, partition: str | None) -> dict[str, Any]:
    if record is None:
        return {"asset": asset, "partition": partition, "materialized": False}
    mat = record.asset_materialization
    meta = {k: v.value for k, v in (mat.metadata or {}).items()}
    tags = mat.tags or {}
    return {
        "asset": asset,
        "partition": partition,
        "materialized": True,
        "run_id": record.run_id,
        "timestamp": record.timestamp,
        "data_version": tags.get("dagster/data_version"),
        "metadata": meta,
    }


class LineageArgumentError(ValueError):
    """The requested model, fold or feature set is not in the recorded evaluation (names the known ones)."""


def lineage_from_instance(
    instance: dg.DagsterInstance, *, tissue: str, model: str, fold: str | None = None,
    feature_set: str | None = None, evaluation_asset: str = "evaluation_summary",
) -> dict[str, Any]:
    """Walk the recorded provenance from an evaluation partition down to the raw files."""
    top = _node(latest_materialization(instance, evaluation_asset, tissue), evaluation_asset, tissue)
    if not top["materialized"]:
        raise LookupError(f"{evaluation_asset} for {tissue} has not been materialized in this Dagster instance")
    chain: dict[str, Any] = {"tissue": tissue, "model": model, "fold": fold, "feature_set": feature_set,
                             "evaluation": _strip(top), "steps": []}
    prov = top["metadata"].get("provenance") or {}
    chain["code_version"] = prov.get("code_version")
    chain["protocol"] = prov.get("protocol")
    chain["raw_files"] = prov.get("raw_files", [])
    # Metric keys are `auroc_<feature set>_<model>`: an unknown model or feature set is an error naming
    # the ones this evaluation has, never an empty lineage.
    recorded = [k.removeprefix("auroc_").split("_", 1) for k in top["metadata"] if k.startswith("auroc_") and "_" in k[6:]]
    models, feature_sets = sorted({m for _, m in recorded}), sorted({f for f, _ in recorded})
    if model not in models:
        raise LineageArgumentError(f"--model {model!r}: no AUROC recorded for it in {evaluation_asset} {tissue}; "
                                   f"known: {models}")
    if feature_set and feature_set not in feature_sets:
        raise LineageArgumentError(f"--features {feature_set!r}: no AUROC recorded for it in {evaluation_asset} "
                                   f"{tissue}; known: {feature_sets}")
    metrics = {k: v for k, v in top["metadata"].items()
               if k.startswith("auroc_") and k.endswith(f"_{model}") and k.removeprefix("auroc_").split("_", 1)[1] == model}
    if feature_set:
        metrics = {k: v for k, v in metrics.items() if k.startswith(f"auroc_{feature_set}_")}
    chain["evaluation"]["metrics"] = metrics
    seen: set[tuple[str, str]] = set()
    frontier = list(prov.get("upstream", []))
    while frontier:
        up = frontier.pop(0)
        key = (up["asset"], up.get("partition"))
        if key in seen:
            continue
        seen.add(key)
        node = _node(latest_materialization(instance, up["asset"], up.get("partition")), *key)
        node["recorded_data_version"] = up.get("data_version")
        node_prov = node.get("metadata", {}).get("provenance") or {}
        if node["asset"] == "lomo_folds":
            node["folds"] = node.get("metadata", {}).get("folds")
        if node["asset"] == "model_predictions":
            # the model's own code: a plug-in's code version (issue 20), else the asset's; and the seeds
            meta = node.get("metadata") or {}
            plugin = (meta.get("plugins") or {}).get(model.removeprefix("positive_control:"))
            chain["model_code"] = ({"plugin": plugin["spec"], "code_version": plugin["code_version"]} if plugin
                                   else {"builtin": model, "code_version": (meta.get("provenance") or {}).get("code_version")})
            chain["seeds"] = meta.get("seeds") or [42]
        if node["asset"] == "gene_sets":
            chain["gene_set_files"] = node_prov.get("raw_files", [])
        if "feature_inputs" in node_prov:
            # What each feature set was computed from (pathways: gene-set files with sha256 and the
            # GSVA inputs with the versions read), as the asset that built the features recorded it.
            inputs = node_prov["feature_inputs"]
            chain["feature_inputs"] = {k: v for k, v in inputs.items() if not feature_set or k == feature_set}
        chain["steps"].append(_strip(node))
        frontier.extend(node_prov.get("upstream", []))
    if fold:
        mission = fold.replace("fold_", "").replace("_test", "").replace("_holdout", "")
        chain["fold_missions"] = mission
    return chain


def _strip(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k != "metadata"}
    meta = node.get("metadata") or {}
    for k in ("n_genes", "n_samples", "n_folds", "n_predictions", "n_flight", "n_ground", "source_mode",
              "studies", "sha256", "protocol", "task_id"):
        if k in meta:
            out[k] = meta[k]
    return out


def render_lineage_text(chain: dict[str, Any]) -> str:
    ev = chain["evaluation"]
    lines = [
        f"AUROC lineage — tissue {chain['tissue']}, model {chain['model']}"
        + (f", fold {chain['fold']}" if chain.get("fold") else "")
        + (f", features {chain['feature_set']}" if chain.get("feature_set") else ""),
        f"code version {chain.get('code_version')}, protocol {chain.get('protocol')}",
        *([f"model code {chain['model_code'].get('plugin') or chain['model_code'].get('builtin')} version "
           f"{chain['model_code'].get('code_version')}, seeds {chain.get('seeds')}"] if chain.get("model_code") else []),
        f"{ev['asset']}[{ev['partition']}] run {ev.get('run_id', '')[:8]} data version {ev.get('data_version')}",
    ]
    for k, v in sorted(ev.get("metrics", {}).items()):
        lines.append(f"    {k} = {v:.3f}")
    for step in chain["steps"]:
        status = "" if step.get("materialized") else "  (NOT MATERIALIZED)"
        drift = ""
        if step.get("recorded_data_version") and step.get("data_version") and \
                step["recorded_data_version"] != step["data_version"]:
            drift = f"  (used version {step['recorded_data_version']}, newer {step['data_version']} exists)"
        extras = ", ".join(f"{k}={step[k]}" for k in ("n_folds", "n_genes", "n_samples", "n_flight", "n_ground",
                                                        "source_mode", "studies") if k in step)
        lines.append(f"  <- {step['asset']}[{step['partition']}] version {step.get('data_version')}"
                     f"{status}{drift}" + (f"  ({extras})" if extras else ""))
    for name, inputs in (chain.get("feature_inputs") or {}).items():
        lines.append(f"  {name} features computed from:")
        for up in inputs.get("gsva_inputs", inputs.get("from", [])):
            lines.append(f"       {up['asset']}[{up['partition']}]" + (f" {up['collection']}" if up.get("collection") else "")
                         + f" version {up.get('data_version')}")
        if inputs.get("gsva_fitted"):
            lines.append(f"       GSVA fitted {inputs['gsva_fitted']}")
        for f in inputs.get("gene_set_files", []):
            lines.append(f"       {f.get('osd')}  {f.get('file_name')}  sha256 {f.get('sha256')}")
    lines.append("  <- raw OSDR files:")
    for f in chain.get("raw_files", []):
        lines.append(f"       {f.get('osd')}  {f.get('file_name')}  sha256 {f.get('sha256')}  "
                     f"[{f.get('source_mode')}" + (f", fetched {f['fetched_at']}" if f.get("fetched_at") else "") + "]")
    return "\n".join(lines)


def lineage_markdown_for_tissue(store, catalog, tissue: str, tasks, folds, instance: dg.DagsterInstance | None = None) -> str:
    """The chain for the UI, built while the evaluation runs. The study versions are the ones
    lomo_folds recorded when it read them (from the instance), not whatever is on disk now: the
    evaluation reads no study table itself."""
    lines = [f"**{catalog.task_ids[tissue]} {tissue}**: evaluation_summary ← model_predictions "
             f"(`{store.sha256('model_predictions', tissue)[:12]}`) ← lomo_folds "
             f"(`{store.sha256('lomo_folds', tissue, ext='json')[:12]}`) ← normalized_expression ← raw_counts ← OSDR files", ""]
    lines.append(markdown_table(
        ["fold", "train missions", "n train", "n test", "features", "fitted steps saw"],
        [[f.fold_id, ", ".join(f.train_missions), len(f.train_ids), len(f.test_ids), f"{len(f.genes)} genes",
          ", ".join(f"{k}: {len(v)} samples" for k, v in (f.fitted_steps or {}).items())] for f in folds]))
    lines.append("")
    if instance is not None:
        folds_node = _node(latest_materialization(instance, "lomo_folds", tissue), "lomo_folds", tissue)
        used = (folds_node.get("metadata", {}).get("provenance") or {}).get("upstream", [])
        rows = []
        for up in used:
            if up["asset"] != "normalized_expression":
                continue
            ne = _node(latest_materialization(instance, up["asset"], up["partition"]), up["asset"], up["partition"])
            ne_prov = ne.get("metadata", {}).get("provenance") or {}
            raw = next((u.get("data_version") for u in ne_prov.get("upstream", []) if u["asset"] == "raw_counts"), None)
            rows.append([up["partition"], f"`{up.get('data_version')}`", f"`{raw}`"])
        lines.append(markdown_table(["study", "normalized_expression version used", "its raw_counts version"], rows))
        lines.append("")
    lines.append(raw_files_markdown(store.read_json("raw_files", tissue, "_tissue")))
    return "\n".join(lines)


def stale_partitions(instance: dg.DagsterInstance, defs: dg.Definitions) -> dict[str, dict[str, str]]:
    """{asset: {partition or "": FRESH / STALE / MISSING}} for every materialized asset partition, as
    the UI computes it: data versions of the inputs and the code version recorded at materialization
    against the current code location's graph (Dagster's CachingStaleStatusResolver)."""
    # `datetime` bound to the class, never the module: Dagster's record types resolve their field
    # annotations (`datetime`) in the calling frame on first use, and the module there fails isinstance.
    from datetime import datetime, timezone

    from genebench_assets.defs.runtime.dagster_internals import (AssetGraphView, CachingStaleStatusResolver,
                                                                 TemporalContext)

    graph = defs.resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=datetime.now(timezone.utc), last_event_id=None),
                          instance=instance, asset_graph=graph)
    resolver = CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
    out: dict[str, dict[str, str]] = {}
    for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if node.partitions_def is None:
            partitions = [None] if instance.get_latest_materialization_event(key) else []
        else:
            partitions = sorted(instance.get_materialized_partitions(key))
        for partition in partitions:
            status = resolver.get_status(key, partition)
            out.setdefault(key.to_user_string(), {})[partition or ""] = status.name
    return out
