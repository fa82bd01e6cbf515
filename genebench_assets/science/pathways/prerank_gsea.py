"""Prerank GSEA on DESeq2 Wald statistics and cross-mission NES conservation (SPEC §8, §9).

Sign convention (ours, everywhere in genebench): **positive NES = the pathway is higher in Flight**.
The ranking must therefore be a Flight-vs-Ground statistic (DESeq2 Wald `stat` of log2(Flight /
Ground)), sorted so that genes up in Flight come first; that is what gseapy's prerank does with its
default descending order. The DESeq2 tables of the release (`processed/dge/<tissue>/*_deseq2_dge.csv`)
have that direction (checked in the tests against per-sample GSVA scores and the task labels).

The published fgsea tables (`processed/fgsea/`) were computed with the opposite convention
(positive NES = higher in the control group); `published_fgsea_nes` flips them to ours
(`convention="control_positive"`, the default for those files).

`nes_conservation` is SPEC §8: per tissue, Spearman r of the NES vectors of each pair of missions over
the pathways both have (pairs with fewer than `min_shared` are skipped), and the tissue score is the
mean of the pair r's (`mean`). The published JSON (`evaluation/NES_conservation_hallmark.json` of
GeneLab_benchmark) averaged the pair r's after rounding each to 3 decimals, which moves liver from
0.0595 to 0.060; we average the unrounded r's (liver 0.059) and also report the published variant.
Spearman r does not depend on the sign convention, as long as both missions use the same one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from genebench_assets.science.pathways.gene_sets import filter_gene_sets

CONVENTIONS = ("control_positive", "flight_positive")
PRERANK_METHODS = ("permutation", "multilevel")


def ranking_from_dge(
    dge: pd.DataFrame, symbol_map: pd.Series, *, id_column: str | None = "ENSEMBL", stat_column: str = "stat"
) -> pd.Series:
    """Symbol -> Wald statistic from a DESeq2 table with Ensembl ids (sorted, largest first).

    The ids are in column `id_column`, or in the index when `id_column` is None (our own
    `differential_expression` tables).
    Rows with a missing statistic (DESeq2 gives NA for all-zero genes) or an unmapped id are dropped;
    when several Ensembl ids share a symbol the one with the largest |stat| is kept (the gene that
    carries the signal; ties keep the first row)."""
    missing = ({stat_column} | ({id_column} if id_column else set())) - set(dge.columns)
    if missing:
        raise ValueError(f"DGE table lacks column(s) {sorted(missing)} (has {list(dge.columns)})")
    ids = pd.Series(dge.index if id_column is None else dge[id_column].to_numpy(), index=dge.index)
    table = pd.DataFrame({"symbol": ids.map(symbol_map), "stat": pd.to_numeric(dge[stat_column])})
    table = table.dropna()
    table = table.assign(abs_stat=table["stat"].abs()).sort_values("abs_stat", ascending=False, kind="mergesort")
    table = table.drop_duplicates("symbol")
    ranking = table.set_index("symbol")["stat"].sort_values(ascending=False, kind="mergesort")
    ranking.name = stat_column
    return ranking


def prerank_nes(
    ranking: pd.Series,
    gene_sets: Mapping[str, Iterable[str]],
    *,
    permutations: int = 1000,
    seed: int = 42,
    min_size: int = 15,
    max_size: int = 500,
    threads: int = 1,
    method: str = "permutation",
) -> pd.DataFrame:
    """Prerank GSEA (gseapy.prerank) of a symbol -> Flight-vs-Ground statistic ranking.

    Returns one row per gene set kept (index `pathway`, in gene-set order) with NES (positive =
    higher in Flight), ES, pval (gseapy's nominal p), padj (Benjamini-Hochberg over the sets, as
    fgsea's padj), size (set genes in the ranking) and leading_edge (list of symbols).
    `method="permutation"` is classic GSEA gene-set permutation; "multilevel" is gseapy's port of
    fgsea's multilevel procedure (NES from fgsea's random-gene-set null). Missing values are dropped;
    duplicate symbols raise (collapse them first, e.g. with `ranking_from_dge`)."""
    if method not in PRERANK_METHODS:
        raise ValueError(f"method must be one of {PRERANK_METHODS}, got {method!r}")
    ranking = pd.to_numeric(pd.Series(ranking), errors="raise").dropna()
    if ranking.index.has_duplicates:
        dup = ranking.index[ranking.index.duplicated()].unique()
        raise ValueError(f"duplicate symbols in the ranking: {list(dup[:5])}; keep one value per symbol")
    if not np.isfinite(ranking.to_numpy()).all():
        raise ValueError("the ranking has infinite values")
    sets, report = filter_gene_sets(gene_sets, ranking.index, min_size=min_size, max_size=max_size)
    if not sets:
        raise ValueError(
            f"no gene set has {min_size}..{max_size} genes in the ranking ({len(ranking)} genes); "
            f"e.g. {list(report['dropped'].items())[:3]}"
        )
    import gseapy

    # Neutral ids keep gseapy from guessing upper/lower case of symbols (see pathway_scoring).
    ordered = ranking.sort_values(ascending=False, kind="mergesort")
    ids = pd.Index([f"g{i}" for i in range(len(ordered))])
    symbol_of = dict(zip(ids, ordered.index))
    id_of = dict(zip(ordered.index, ids))
    rnk = pd.Series(ordered.to_numpy(dtype="float64"), index=ids, name="stat")
    sets_ids = {name: [id_of[g] for g in members] for name, members in sets.items()}
    result = gseapy.prerank(
        rnk=rnk, gene_sets=sets_ids, permutation_num=permutations, seed=seed, min_size=min_size,
        max_size=max_size, threads=threads, ascending=False, outdir=None, no_plot=True, verbose=False,
        method=method,
    )
    res = result.res2d.set_index("Term")
    missing = [name for name in sets if name not in res.index]
    if missing:
        raise ValueError(f"gseapy.prerank returned no result for gene set(s) {missing[:5]}")
    res = res.loc[list(sets)]
    pval = res["NOM p-val"].astype("float64").to_numpy()
    out = pd.DataFrame(
        {
            "NES": res["NES"].astype("float64").to_numpy(),
            "ES": res["ES"].astype("float64").to_numpy(),
            "pval": pval,
            "padj": _bh_adjust(pval),
            "size": [len(sets[name]) for name in sets],
            "leading_edge": [
                [symbol_of[g] for g in str(genes).split(";") if g] for genes in res["Lead_genes"].fillna("")
            ],
        },
        index=pd.Index(list(sets), name="pathway"),
    )
    return out


def published_fgsea_nes(path: str | Path, *, convention: str = "control_positive") -> pd.Series:
    """NES of a published fgsea CSV (columns `pathway`, `NES`) in our convention (positive = Flight).

    `convention` says how the file's NES are signed: "control_positive" (the GeneLab release's fgsea
    files) flips the sign, "flight_positive" keeps it. Pathways with a missing NES are dropped."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    path = Path(path)
    table = pd.read_csv(path)
    missing = {"pathway", "NES"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: fgsea table lacks column(s) {sorted(missing)}")
    if table["pathway"].duplicated().any():
        raise ValueError(f"{path}: duplicate pathway rows {table.loc[table['pathway'].duplicated(), 'pathway'].tolist()[:5]}")
    nes = table.set_index("pathway")["NES"].astype("float64").dropna()
    if convention == "control_positive":
        nes = -nes
    nes.index.name = "pathway"
    nes.name = "NES"
    return nes


def published_fgsea_tissue(folder: str | Path, db: str = "hallmark", **kwargs) -> dict[str, pd.Series]:
    """{source: NES} for every `<source>_fgsea_<db>.csv` in a tissue folder, sources sorted.

    A source is a file stem: skin MHU-2 is two sources, `MHU-2_dorsal` and `MHU-2_femoral`, as in the
    published conservation analysis (3 skin pairs)."""
    folder = Path(folder)
    suffix = f"_fgsea_{db}.csv"
    files = sorted(folder.glob(f"*{suffix}"))
    return {f.name[: -len(suffix)]: published_fgsea_nes(f, **kwargs) for f in files}


def nes_conservation(nes_by_mission: Mapping[str, pd.Series], min_shared: int = 10) -> dict:
    """SPEC §8 NES conservation of one tissue: Spearman r per mission pair and their mean.

    Returns {"mean": the tissue score, mean of the pair r's (None without pairs),
    "mean_published_rounding": mean of the r's rounded to 3 decimals, itself rounded to 3 (the
    published JSON's arithmetic), "n_missions", "n_pairs",
    "pairs": [{"mission_a", "mission_b", "pair", "n_shared", "spearman_r"}] (missions sorted, as the
    published "A_B" keys), "skipped": [{"pair", "n_shared", "reason"}]}. Pathways with a missing NES
    do not count as shared."""
    missions = sorted(nes_by_mission)
    pairs, skipped = [], []
    for a, b in itertools.combinations(missions, 2):
        va = pd.Series(nes_by_mission[a]).dropna()
        vb = pd.Series(nes_by_mission[b]).dropna()
        for name, v in ((a, va), (b, vb)):
            if v.index.has_duplicates:
                raise ValueError(f"NES of {name} has duplicate pathways: {list(v.index[v.index.duplicated()][:5])}")
        shared = va.index.intersection(vb.index)
        key = f"{a}_{b}"
        if len(shared) < min_shared:
            skipped.append({"pair": key, "n_shared": int(len(shared)), "reason": f"fewer than {min_shared} shared pathways"})
            continue
        r = spearmanr(va.loc[shared].to_numpy(), vb.loc[shared].to_numpy())[0]
        pairs.append({"mission_a": a, "mission_b": b, "pair": key, "n_shared": int(len(shared)), "spearman_r": float(r)})
    rs = [p["spearman_r"] for p in pairs]
    return {
        "mean": float(np.mean(rs)) if rs else None,
        "mean_published_rounding": round(float(np.mean([round(r, 3) for r in rs])), 3) if rs else None,
        "n_missions": len(missions),
        "n_pairs": len(pairs),
        "pairs": pairs,
        "skipped": skipped,
    }


def pair_table(conservation: dict) -> pd.DataFrame:
    """The pairs of a `nes_conservation` result as a DataFrame (one row per mission pair)."""
    columns = ["mission_a", "mission_b", "pair", "n_shared", "spearman_r"]
    return pd.DataFrame(conservation["pairs"], columns=columns)


def _bh_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R's p.adjust(method = "BH")); NaN stay NaN."""
    p = np.asarray(pvalues, dtype="float64")
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    n = int(ok.sum())
    if n == 0:
        return out
    q = p[ok]
    order = np.argsort(q)[::-1]
    ranked = q[order] * n / np.arange(n, 0, -1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked))
    result = np.empty(n)
    result[order] = adjusted
    out[ok] = result
    return out
