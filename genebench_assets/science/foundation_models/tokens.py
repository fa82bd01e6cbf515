"""Geneformer-style rank-value tokens of one fold (issue 20).

Geneformer (Theodoris et al. 2023) encodes a sample as its genes ranked by expression divided by each
gene's median over a reference corpus. Here the reference is the fold's *training samples only*, so a
test mission never shapes its own (or anyone's) tokens:

1. normalized counts = 2**x - 1 of the log2(normalized + 1) expression (data contract);
2. each gene's median normalized count over the fold's training samples (NaN - a gene absent from a
   study - skipped); genes whose training median is 0 or undefined are left out;
3. per sample (training and test alike, always with the training medians): count / median, non-zero
   genes only, descending (ties by gene id), the first ``TOP_N`` (2,048, Geneformer's input size).

``export_tokens`` writes ``<out>/<task>/<fold_id>/tokens.parquet`` (sample_id, rank, gene_id),
``gene_medians.parquet`` (gene_id, median) and ``<out>/<task>/manifest.json`` with every file's
sha256, atomically. No Dagster import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.osdr.identifiers import path_inside
from genebench_assets.science.storage.atomic_files import sha256_file, write_json, write_parquet

TOP_N = 2048
METHOD = ("Geneformer-style rank tokens: normalized count (2**log2 - 1) / the gene's median over the fold's "
          "training samples (genes with zero training median left out), non-zero genes, descending, "
          "ties by gene id, top {top_n}; Ensembl gene ids")


def normalized_counts(expression: pd.DataFrame) -> pd.DataFrame:
    """log2(normalized + 1) -> normalized counts (NaN stays NaN)."""
    return np.exp2(expression.astype(np.float64)) - 1.0


def training_medians(expression: pd.DataFrame, train_ids: Sequence[str]) -> pd.Series:
    """Each gene's median normalized count over ``train_ids`` only (genes x samples in); genes with a
    zero or undefined median are dropped. Index sorted by gene id."""
    ids = [str(s) for s in train_ids]
    missing = [s for s in ids if s not in expression.columns]
    if missing:
        raise KeyError(f"{len(missing)} training samples not in the expression matrix, first {missing[0]!r}")
    med = normalized_counts(expression[ids]).median(axis=1, skipna=True)
    med = med[np.isfinite(med.to_numpy()) & (med.to_numpy() > 0)]
    med.index = med.index.astype(str)
    med.index.name, med.name = "gene_id", "median"
    return med.sort_index()


def rank_tokens(expression: pd.DataFrame, sample_ids: Sequence[str], medians: pd.Series,
                top_n: int = TOP_N) -> pd.DataFrame:
    """Rows (sample_id, rank 1.., gene_id): each sample's non-zero genes by count / training median,
    descending, ties by gene id, at most ``top_n``. Genes outside ``medians`` are never tokens."""
    if top_n < 1:
        raise ValueError(f"top_n must be >= 1, got {top_n}")
    ids = [str(s) for s in sample_ids]
    medians = medians.sort_index()  # sorted gene ids: a stable sort then breaks ties by gene id
    genes = medians.index.to_numpy(dtype=object)
    expr = expression.copy(deep=False)
    expr.index = expr.index.astype(str)
    block = normalized_counts(expr.reindex(index=medians.index)[ids]).to_numpy()
    scaled = block / medians.to_numpy()[:, None]
    frames = []
    for j, sample in enumerate(ids):
        v = scaled[:, j]
        keep = np.flatnonzero(v > 0)  # NaN (gene absent from the sample's study) and zeros left out
        order = keep[np.argsort(-v[keep], kind="stable")][:top_n]
        frames.append(pd.DataFrame({"sample_id": sample, "rank": np.arange(1, len(order) + 1, dtype=np.int32),
                                    "gene_id": genes[order].astype(str)}))
    if not frames:
        return pd.DataFrame({"sample_id": pd.Series(dtype=str), "rank": pd.Series(dtype=np.int32),
                             "gene_id": pd.Series(dtype=str)})
    return pd.concat(frames, ignore_index=True)


def fold_tokens(fold, expression: pd.DataFrame, top_n: int = TOP_N) -> tuple[pd.DataFrame, pd.Series]:
    """(tokens of the fold's training then test samples, the training medians used for all of them)."""
    medians = training_medians(expression, fold.train_ids)
    return rank_tokens(expression, list(fold.train_ids) + list(fold.test_ids), medians, top_n), medians


def export_tokens(folds: Sequence, expression: pd.DataFrame, out_dir: str | Path, *, task_id: str,
                  tissue: str, top_n: int = TOP_N, lineage: dict | None = None) -> Path:
    """Write every fold's tokens and medians under ``out_dir/<task_id>/`` plus ``manifest.json``
    (method, per fold: ids, counts, file sha256s; ``lineage`` as given). Returns the manifest path.
    Every path is resolved inside ``out_dir`` (a fold id cannot lead out of it)."""
    if not folds:
        raise ValueError(f"{task_id}: no folds to export")
    task_dir = path_inside(out_dir, task_id)
    for fold in folds:
        path_inside(task_dir, fold.fold_id)
    entries = []
    for fold in folds:
        tokens, medians = fold_tokens(fold, expression, top_n)
        fdir = path_inside(task_dir, fold.fold_id)
        fdir.mkdir(parents=True, exist_ok=True)
        write_parquet(tokens, fdir / "tokens.parquet")
        write_parquet(medians.reset_index(), fdir / "gene_medians.parquet")
        per_sample = tokens.groupby("sample_id", sort=False).size()
        entries.append({
            "fold_id": fold.fold_id, "test_mission": fold.test_mission,
            "train_missions": list(fold.train_missions),
            "train_ids": list(fold.train_ids), "test_ids": list(fold.test_ids),
            "medians_from": f"training samples only ({len(fold.train_ids)})",
            "n_genes_with_median": int(len(medians)),
            "tokens_per_sample": {"min": int(per_sample.min()), "max": int(per_sample.max())} if len(per_sample) else {},
            "files": {name: sha256_file(fdir / name) for name in ("tokens.parquet", "gene_medians.parquet")},
        })
    manifest = {"task_id": task_id, "tissue": tissue, "top_n": top_n, "gene_ids": "Ensembl",
                "method": METHOD.format(top_n=top_n), "columns": ["sample_id", "rank", "gene_id"],
                "folds": entries, "lineage": lineage or {}}
    return write_json(manifest, task_dir / "manifest.json")
