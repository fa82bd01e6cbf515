"""`genebench export-tokens` and `genebench evaluate --embeddings` (issue 20): thin wiring between the
materialized benchmark (folds through the read gate, studies as promoted) and the science core
(`science/foundation_models/`). Both read the folds exactly as `genebench export-folds` does."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


class EmbeddingsUsageError(ValueError):
    """A bad argument or input file: one line, exit 2."""


def _task_tissue(catalog, task_id: str) -> str:
    task_to_tissue = {v: k for k, v in catalog.task_ids.items()}
    if task_id not in task_to_tissue:
        raise EmbeddingsUsageError(f"--task {task_id!r:.40} is not a task of the catalog; known: {sorted(task_to_tissue)}")
    return task_to_tissue[task_id]


def _checked_folds(instance, catalog, task_id: str, command: str):
    """(settings, store, tissue, folds) through the read gate, or None after printing why (exit 1)."""
    from genebench_assets.defs.gating.read_gate import InputRefused
    from genebench_assets.defs.gating.tissue_inputs import read_checked_folds
    from genebench_assets.defs.runtime.settings import GenebenchSettings
    from genebench_assets.science.storage.table_store import TableNotFoundError

    tissue = _task_tissue(catalog, task_id)
    settings = GenebenchSettings()
    store = settings.table_store()  # folds of GENEBENCH_PROTOCOL; studies as promoted
    try:  # folds whose leakage checks failed are never read
        folds = read_checked_folds(None, store, tissue, instance=instance)
    except (TableNotFoundError, InputRefused) as exc:
        print(f"genebench {command}: {exc}; run `genebench materialize --tissue {tissue}` first", file=sys.stderr)
        return None
    return settings, store, tissue, folds


def _lineage(store, tissue: str, folds, data) -> dict:
    from genebench_assets.defs.gating.tissue_inputs import lomo_folds_data_version

    return {"lomo_folds": {"tissue": tissue, "data_version": lomo_folds_data_version(store, tissue),
                           "protocol": store.protocol},
            "study_versions": dict(sorted(data.study_versions.items())) if data is not None else None,
            "fold_ids": [f.fold_id for f in folds]}


def export_tokens_cli(args, *, instance, catalog) -> int:
    from genebench_assets.defs.gating.tissue_inputs import load_tissue
    from genebench_assets.science.foundation_models.tokens import export_tokens
    from genebench_assets.science.osdr.identifiers import IdentifierError

    got = _checked_folds(instance, catalog, args.task, "export-tokens")
    if got is None:
        return 1
    settings, store, tissue, folds = got
    data = load_tissue(store, catalog, tissue)  # the promoted versions the folds were built from
    try:
        manifest = export_tokens(folds, data.expression, Path(args.out), task_id=args.task, tissue=tissue,
                                 top_n=args.top_n, lineage=_lineage(store, tissue, folds, data))
    except IdentifierError as exc:
        raise EmbeddingsUsageError(f"--out {args.out}: {exc}") from None
    print(f"{args.task} ({tissue}): {len(folds)} folds of rank tokens (top {args.top_n}, training-sample medians) "
          f"-> {manifest.parent}; manifest {manifest}")
    return 0


def published_dir(arg: str | None) -> Path:
    """--published, else $GENEBENCH_PUBLISHED_RESULTS/genelab_evaluation, else the shared data's."""
    from genebench_assets.defs.runtime.settings import default_shared_data

    if arg:
        return Path(arg)
    root = os.environ.get("GENEBENCH_PUBLISHED_RESULTS") or str(Path(default_shared_data()) / "published_results")
    return Path(root) / "genelab_evaluation"


def run_probe(emb, folds, protocol: str):
    """The probe and its evaluation (the function whose code version the results record names)."""
    from genebench_assets.science.foundation_models.embedding_probe import evaluate_embeddings

    return evaluate_embeddings(emb, folds, protocol=protocol)


def evaluate_embeddings_cli(args, *, instance, catalog) -> int:
    from genebench_assets.science.foundation_models import embedding_probe as ep
    from genebench_assets.science.inputs.guarded_files import InputFileError
    from genebench_assets.science.storage.atomic_files import sha256_file

    _task_tissue(catalog, args.task)  # an unknown task before anything is read
    path = Path(args.embeddings)
    try:  # the whole guarded read before the folds are looked up
        emb = ep.read_embeddings(path, max_bytes=getattr(args, "max_bytes", None) or ep.MAX_EMBEDDINGS_BYTES)
    except InputFileError as exc:
        raise EmbeddingsUsageError(str(exc)) from None
    digest = sha256_file(path)  # the bytes just read (a regular file of bounded size)
    got = _checked_folds(instance, catalog, args.task, "evaluate")
    if got is None:
        return 1
    settings, store, tissue, folds = got
    try:
        ep.require_samples(emb, folds, path)
    except InputFileError as exc:
        raise EmbeddingsUsageError(str(exc)) from None
    protocol = store.protocol
    preds, per_fold, summary = run_probe(emb, folds, protocol)
    pub_dir = published_dir(getattr(args, "published", None))
    try:
        published = ep.published_geneformer(pub_dir, args.task)
    except InputFileError as exc:
        raise EmbeddingsUsageError(str(exc)) from None
    lineage = {**_lineage(store, tissue, folds, None), "embeddings_sha256": digest, "embeddings_file": str(path)}
    lineage.pop("study_versions")
    result = {
        "task_id": args.task, "tissue": tissue, "protocol": protocol, "probe": ep.PROBE,
        "embeddings": {"path": str(path), "sha256": digest, "n_samples": int(emb.shape[0]), "n_dims": int(emb.shape[1])},
        "folds": [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                  for row in per_fold.to_dict(orient="records")],
        "summary": {k: (v.item() if hasattr(v, "item") else v) for k, v in summary.items()},
        "published_geneformer": published,
        "published_note": None if published else f"not found at {pub_dir / ep.PUBLISHED_FILE.format(task=args.task)}",
        "lineage": lineage,
    }
    result["record"] = write_embeddings_record(settings.data_dir, result, preds)
    print(json.dumps(result, indent=1, default=float) if args.json else ep.render_table(result)
          + (f"\nresults record: {result['record']}" if result["record"] else ""))
    return 0


def write_embeddings_record(data_dir, result: dict, preds) -> str | None:
    """The `embeddings` record through science/results/record.py (kind "embeddings"): the embeddings
    file's sha256 is in `source` and `notes`, the folds' data version in `folds_data_version`.
    Returns the record path, or None (after a one-line warning) when it cannot be written."""
    try:
        from genebench_assets.science.results import record as rec
    except ImportError:  # the results record is not installed in this tree
        return None
    from genebench_assets.defs.lineage.code_versions import code_version_of

    s = result["summary"]
    lomo = [f for f in result["folds"] if not str(f["fold_id"]).endswith("_holdout")]
    try:
        record = rec.build_record(
            benchmark="genelab", task=result["task_id"], model="embedding_probe", kind="embeddings",
            protocol=result["protocol"], metric="auroc",
            folds=[{"fold_id": f["fold_id"], "value": f["auroc"], "ci_lower": f["ci_lower"], "ci_upper": f["ci_upper"],
                    "perm_p": f["perm_p"], "n_test": f["n_test"]} for f in lomo],
            summary={"mean": s["mean_auroc"], "std": s["std_auroc"], "mean_ci_lower": s["mean_ci_lower"],
                     "mean_perm_p": s["mean_perm_p"], "pooled": s.get("pooled_auroc")},
            go=s["go"], predictions_sha256=rec.sha256_of_predictions(
                preds.sort_values(["fold_id", "sample_id"]).to_dict(orient="list")),
            folds_data_version=result["lineage"]["lomo_folds"]["data_version"],
            code_version=code_version_of(__file__, "run_probe"), seeds=[42], feature_set="embeddings",
            source=f"embeddings {result['embeddings']['path']} sha256:{result['embeddings']['sha256']}",
            notes=f"{result['probe']}; embeddings sha256 {result['embeddings']['sha256']} "
                  f"({result['embeddings']['n_samples']} samples x {result['embeddings']['n_dims']} dims)")
        return str(rec.write_record(data_dir, record))
    except (rec.RecordError, OSError, ValueError) as exc:
        print(f"genebench evaluate: results record not written: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return None
