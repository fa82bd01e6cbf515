"""The multi-database comparison (issue 21): ``multi_db_comparison.json``.

- ``auroc``: per model (pca_lr, lr), tissue and collection, the summary fields of the reproduced
  ``A{n}_pathway_{db}_results.json`` tables (mean_auroc, std_auroc, mean_ci_lower, mean_perm_p, go,
  n_folds) - a pure re-layout, so exact wherever those tables are.
- ``nes_conservation``: per tissue and collection, from the release's fGSEA tables
  (``processed/fgsea/<tissue>/<mission>_fgsea_<db>.csv``): ``nes_mean_r`` = mean over mission pairs of
  the Spearman correlation of NES on the pathways both missions have, each pair rounded to 3 decimals,
  the mean rounded to 3; ``n_missions`` = number of fGSEA files; ``n_pathways`` = pathways of the first
  mission (files sorted), as published.
- ``mitocarta_deep_dive`` and ``cross_db_concordance`` (published) are not computed here yet.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

PUBLISHED_TISSUES = ("liver", "gastrocnemius", "kidney", "thymus", "eye", "skin")   # published key order
COLLECTIONS = ("hallmark", "kegg", "reactome", "mitocarta")
MODELS = ("pca_lr", "lr")
AUROC_FIELDS = ("mean_auroc", "std_auroc", "mean_ci_lower", "mean_perm_p", "go", "n_folds")
FILENAME = "multi_db_comparison.json"


def auroc_block(results: dict[tuple[str, str], dict]) -> dict:
    """results: (tissue, db) -> the A{n}_pathway_{db}_results.json dict. Missing pairs are left out."""
    out: dict = {}
    for model in MODELS:
        by_tissue = {}
        for tissue in PUBLISHED_TISSUES:
            by_db = {db: {k: results[(tissue, db)][model][k] for k in AUROC_FIELDS}
                     for db in COLLECTIONS if (tissue, db) in results}
            if by_db:
                by_tissue[tissue] = by_db
        out[model] = by_tissue
    return out


def fgsea_files(release_dir: Path | str, tissue: str, db: str) -> list[Path]:
    return sorted((Path(release_dir) / "processed" / "fgsea" / tissue).glob(f"*_fgsea_{db}.csv"))


def read_nes(path: Path) -> pd.Series:
    frame = pd.read_csv(path, usecols=["pathway", "NES"])
    return frame.drop_duplicates("pathway").set_index("pathway")["NES"].astype(float)


def nes_conservation_entry(files: list[Path]) -> dict:
    from scipy.stats import spearmanr

    nes = {p.name.split("_fgsea_")[0]: read_nes(p) for p in files}
    if len(nes) < 2:
        raise ValueError(f"NES conservation needs 2 missions, got {len(nes)} fGSEA file(s)")
    pairs = []
    for a, b in itertools.combinations(nes, 2):
        both = pd.concat([nes[a], nes[b]], axis=1, join="inner").dropna()
        pairs.append(round(float(spearmanr(both.iloc[:, 0], both.iloc[:, 1])[0]), 3))
    return {"nes_mean_r": round(float(np.mean(pairs)), 3), "n_missions": len(nes),
            "n_pathways": int(len(next(iter(nes.values()))))}


def nes_conservation(release_dir: Path | str, tissues=PUBLISHED_TISSUES, dbs=COLLECTIONS) -> dict:
    out = {}
    for tissue in tissues:
        by_db = {db: nes_conservation_entry(files) for db in dbs if len(files := fgsea_files(release_dir, tissue, db)) >= 2}
        if by_db:
            out[tissue] = by_db
    return out


def multi_db_comparison(results: dict[tuple[str, str], dict], release_dir: Path | str | None) -> dict:
    """The blocks we compute, in the published order."""
    out = {"auroc": auroc_block(results)}
    if release_dir is not None:
        out["nes_conservation"] = nes_conservation(release_dir)
    return out


def auroc_png(block: dict, model: str = "pca_lr") -> bytes:
    """Grouped bars: mean AUROC per tissue, one bar per collection."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tissues = list(block.get(model, {}))
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    width = 0.8 / len(COLLECTIONS)
    for j, db in enumerate(COLLECTIONS):
        vals = [block[model][t].get(db, {}).get("mean_auroc", np.nan) for t in tissues]
        ax.bar(np.arange(len(tissues)) + j * width, vals, width, label=db)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(tissues)) + 0.4 - width / 2, tissues)
    ax.set(ylabel="mean LOMO AUROC", ylim=(0, 1), title=f"{model}: AUROC by gene-set collection")
    ax.legend(fontsize=7, ncol=4, loc="lower right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
