"""J2, the DGE pipeline comparison (issue 21): ``J2_dge_pipeline_comparison.json``.

How the seed made it (GeneLab_benchmark ``scripts/run_dge_comparison.R`` and
``scripts/dge_pipeline_comparison.py``, read for this): per (tissue, mission) of liver and thymus, the
Flight vs Ground samples' rounded counts, genes kept with >= 10 counts in >= (smaller group size) samples,
then three pipelines on the same genes, each giving log2FC, stat, pvalue, adj_pvalue (BH):

- ``deseq2``: DESeq2 Wald, ``~ group`` (pydeseq2 here, ``expression.differential_expression.deseq2_wald``);
- ``edger``: TMM, ``estimateDisp``, ``glmQLFit``, ``glmQLFTest`` on the group coefficient (edgePython, a
  Python port of edgeR; stat = F);
- ``limma_voom``: TMM library sizes, ``voomWithQualityWeights``, ``lmFit``, ``eBayes`` (pylimma, a Python
  port of limma; stat = moderated t).

Per pair of pipelines (``compare_pair``, the seed's function): genes in common, DEG Jaccard at FDR < 0.05
(1.0 when both lists are empty), top-100 / top-500 Jaccard by p-value, Spearman and Pearson of log2FC
(scipy, with their p), sign agreement of log2FC among shared DEGs (None without shared DEGs); ``summary``
pools the pairs of every mission. ``genelab_concordance`` (our DESeq2 vs GeneLab's own DGE table) needs
GeneLab's ``*_differential_expression*.csv``, which no source here reads: recorded as None.

Protocols (``for_protocol``, ``j2_labels``). seed: as published. strict fixes two seed defects: (1) two
empty DEG lists score a DEG Jaccard of 1.0 (``jaccard``), which the summary then pools as perfect
agreement (published liver RR-3: 0 DEGs in all three pipelines, three pairs at 1.0; the summary's
deg_jaccard_005 mean 0.600 over 27 pairs is 0.549 over the 24 defined ones): strict records None
(undefined) and pools only defined pairs; (2) the seed's J2 script ran every Flight / Ground sample of
the SampleTable, also those its own sample QC excludes (SPEC §4.2): strict leaves them out.

Offline, the release ships only the DESeq2 tables (``processed/dge/<tissue>/<mission>_deseq2_dge.csv``,
the seed's J2 DESeq2 output): ``per_pipeline.deseq2`` (n_genes, n_deg_005) is exact from them; the edgeR
and limma-voom tables need counts (demo / live / mirror sources).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

FILENAME = "J2_dge_pipeline_comparison.json"
PIPELINES = ("deseq2", "edger", "limma_voom")
TISSUES = ("liver", "thymus")
# The seed's J2 studies, in its order (run_dge_comparison.R TISSUE_MISSIONS); skin: RR-7 has no raw counts.
SCOPE = {"liver": ("RR-1", "RR-3", "RR-6", "RR-8", "RR-9", "MHU-2"), "thymus": ("RR-6", "MHU-2", "RR-9")}
FDR = 0.05
COLUMNS = ["log2FC", "stat", "pvalue", "adj_pvalue"]


def seed_filter(counts: pd.DataFrame, group: pd.Series, *, min_count: int = 10) -> pd.DataFrame:
    """Rounded counts of the grouped samples; genes with >= min_count in >= the smaller group's size."""
    sub = counts[group.index].round()
    keep = (sub >= min_count).sum(axis=1) >= int(group.value_counts().min())
    return sub[keep.to_numpy()].astype("int64")


def _design(group: pd.Series) -> np.ndarray:
    return np.column_stack([np.ones(len(group)), (group.to_numpy() == "FLT").astype(float)])


def _bh(p: np.ndarray) -> np.ndarray:
    from scipy.stats import false_discovery_control

    out = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    out[ok] = false_discovery_control(p[ok], method="bh")
    return out


def run_deseq2(counts: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    from genebench_assets.science.expression.differential_expression import deseq2_wald

    res = deseq2_wald(counts, group, test="FLT", reference="GC")
    return pd.DataFrame({"log2FC": res["log2FoldChange"], "stat": res["stat"], "pvalue": res["pvalue"],
                         "adj_pvalue": res["padj"]}, index=counts.index)


def _tmm(counts: pd.DataFrame, group: pd.Series):
    import edgepython

    y = edgepython.calc_norm_factors(edgepython.make_dgelist(counts.to_numpy(), group=group.to_numpy()))
    return y, np.asarray(y["samples"]["lib.size"] * y["samples"]["norm.factors"], dtype=float)


def run_edger(counts: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    import edgepython

    y, _ = _tmm(counts, group)
    design = _design(group)
    y = edgepython.estimate_disp(y, design)
    test = edgepython.glm_ql_ftest(edgepython.glm_ql_fit(y, design), coef=1)
    table = edgepython.top_tags(test, n=np.inf, sort_by="none")["table"]
    return pd.DataFrame({"log2FC": table["logFC"].to_numpy(), "stat": table["F"].to_numpy(),
                         "pvalue": table["PValue"].to_numpy(), "adj_pvalue": table["FDR"].to_numpy()}, index=counts.index)


def run_limma_voom(counts: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    import pylimma

    _, lib_size = _tmm(counts, group)
    design = _design(group)
    voom = pylimma.voom_with_quality_weights(counts.to_numpy().astype(float), design, lib_size=lib_size)
    fit = pylimma.e_bayes(pylimma.lm_fit(voom, design))
    table = pylimma.top_table(fit, coef=1, number=len(counts), sort_by="none")
    p = table["p_value"].to_numpy()
    return pd.DataFrame({"log2FC": table["log_fc"].to_numpy(), "stat": table["t"].to_numpy(), "pvalue": p,
                         "adj_pvalue": _bh(p)}, index=counts.index)


RUNNERS = {"deseq2": run_deseq2, "edger": run_edger, "limma_voom": run_limma_voom}


def run_pipelines(counts: pd.DataFrame, labels: pd.Series, pipelines=PIPELINES) -> dict[str, pd.DataFrame]:
    """counts: genes x samples; labels: sample -> 1 (Flight) / 0 (Ground). Seed filter, then each pipeline."""
    labels = labels.dropna()
    group = labels.map({1.0: "FLT", 0.0: "GC"}).astype(str)
    if group.value_counts().reindex(["FLT", "GC"]).fillna(0).min() < 2:
        raise ValueError(f"J2 needs >= 2 Flight and >= 2 Ground samples, got {group.value_counts().to_dict()}")
    filtered = seed_filter(counts, group)
    return {p: RUNNERS[p](filtered, group) for p in pipelines}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def compare_pair(df_a: pd.DataFrame, df_b: pd.DataFrame, name_a: str, name_b: str) -> dict:
    """The seed's compare_pair on two tables indexed by gene (log2FC, pvalue, adj_pvalue)."""
    from scipy import stats

    common = df_a.index.intersection(df_b.index)
    a, b = df_a.loc[common], df_b.loc[common]
    deg_a, deg_b = set(a.index[a["adj_pvalue"] < FDR]), set(b.index[b["adj_pvalue"] < FDR])
    out = {"pair": f"{name_a}_vs_{name_b}", "n_common_genes": len(common), "deg_jaccard_005": jaccard(deg_a, deg_b),
           "n_deg_a": len(deg_a), "n_deg_b": len(deg_b), "n_deg_intersection": len(deg_a & deg_b)}
    for k in (100, 500):
        out[f"top{k}_jaccard"] = jaccard(set(a.nsmallest(k, "pvalue").index), set(b.nsmallest(k, "pvalue").index))
    mask = a["log2FC"].notna() & b["log2FC"].notna()
    if mask.sum() > 10:
        rho, p = stats.spearmanr(a.loc[mask, "log2FC"], b.loc[mask, "log2FC"])
        out["log2fc_spearman_rho"], out["log2fc_spearman_p"] = float(rho), float(p)
        r, p = stats.pearsonr(a.loc[mask, "log2FC"], b.loc[mask, "log2FC"])
        out["log2fc_pearson_r"], out["log2fc_pearson_p"] = float(r), float(p)
    shared = list(deg_a & deg_b)
    out["direction_concordance"] = (float((np.sign(a.loc[shared, "log2FC"]) == np.sign(b.loc[shared, "log2FC"])).mean())
                                    if shared else None)
    return out


def per_pipeline_entry(table: pd.DataFrame) -> dict:
    return {"n_genes": len(table), "n_deg_005": int((table["adj_pvalue"] < FDR).sum())}


def mission_entry(tissue: str, mission: str, tables: dict[str, pd.DataFrame], genelab: dict | None = None) -> dict:
    present = [p for p in PIPELINES if p in tables]
    return {"tissue": tissue, "mission": mission, "n_pipelines": len(present),
            "per_pipeline": {p: per_pipeline_entry(tables[p]) for p in present},
            "pairwise_comparisons": [compare_pair(tables[a], tables[b], a, b)
                                     for a, b in combinations(PIPELINES, 2) if a in tables and b in tables],
            "genelab_concordance": genelab}


def read_dge(path: Path) -> pd.DataFrame:
    """A seed / release DGE table (ENSEMBL, log2FC, stat, pvalue, adj_pvalue), as the seed's load_dge."""
    return pd.read_csv(path).dropna(subset=["ENSEMBL"]).set_index("ENSEMBL")


def release_deseq2_entries(release_dir: Path | str, tissues=TISSUES) -> dict:
    """tissue -> mission -> per_pipeline.deseq2 from the release's DESeq2 tables (exact offline)."""
    out = {}
    for tissue in tissues:
        files = sorted((Path(release_dir) / "processed" / "dge" / tissue).glob("*_deseq2_dge.csv"))
        out[tissue] = {p.name.removesuffix("_deseq2_dge.csv"): per_pipeline_entry(read_dge(p)) for p in files}
    return out


def _stats(values: list[float], keys=("mean", "min", "max")) -> dict:
    fns = {"mean": np.mean, "min": np.min, "max": np.max}
    return {k: float(fns[k](values)) for k in keys}


def summary(results: dict) -> dict:
    """results: tissue -> mission -> mission_entry. The seed's compute_summary."""
    pools: dict[str, list] = {k: [] for k in ("log2fc_spearman_rho", "log2fc_pearson_r", "deg_jaccard_005",
                                              "top100_jaccard", "direction_concordance")}
    genelab = []
    n_missions = 0
    for missions in results.values():
        for entry in missions.values():
            n_missions += 1
            for comp in entry.get("pairwise_comparisons", []):
                for k, pool in pools.items():
                    if comp.get(k) is not None:
                        pool.append(comp[k])
            if (gl := entry.get("genelab_concordance")) and "log2fc_spearman_rho" in gl:
                genelab.append(gl["log2fc_spearman_rho"])
    out: dict = {"n_missions": n_missions, "n_comparisons": len(pools["log2fc_spearman_rho"])}
    for key, name in (("log2fc_spearman_rho", "log2fc_spearman"), ("log2fc_pearson_r", "log2fc_pearson"),
                      ("deg_jaccard_005", "deg_jaccard_005"), ("top100_jaccard", "top100_jaccard")):
        if pools[key]:
            out[name] = _stats(pools[key])
    if pools["direction_concordance"]:
        out["direction_concordance"] = _stats(pools["direction_concordance"], ("mean", "min"))
    if genelab:
        out["genelab_replication"] = {"mean_spearman": float(np.mean(genelab)), "min_spearman": float(np.min(genelab)),
                                      "n_missions": len(genelab)}
    return out


def verdict(summ: dict) -> str:
    rho = summ.get("log2fc_spearman", {}).get("mean", 0)
    r = summ.get("log2fc_pearson", {}).get("mean", 0)
    if rho > 0.90 and r > 0.90:
        return "DGE pipeline choice has minimal impact: fold-change rankings highly conserved"
    if rho > 0.70:
        return "DGE pipeline choice has moderate impact: rankings consistent, DEG lists vary by stringency"
    return "DGE pipeline choice significantly affects results"


def document(results: dict, *, timestamp: str = "") -> dict:
    """The published layout."""
    summ = summary(results)
    rho = summ.get("log2fc_spearman", {}).get("mean", 0)
    r = summ.get("log2fc_pearson", {}).get("mean", 0)
    jac = summ.get("deg_jaccard_005", {}).get("mean", 0)
    return {"timestamp": timestamp, "description": "J2: DGE pipeline comparison (DESeq2 vs edgeR vs limma-voom)",
            "design_decisions": ["DD-21"], "method": "DESeq2 Wald, edgeR QLF, limma-voom QW; FLT vs GC contrast",
            "scope": " + ".join(f"{t} ({len(m)} missions)" for t, m in results.items()),
            "pipelines": list(PIPELINES), "results": results, "summary": summ, "verdict": verdict(summ),
            "evidence": (f"Log2FC Spearman: mean={rho:.3f}, Log2FC Pearson: mean={r:.3f}, "
                         f"DEG Jaccard(FDR<0.05): mean={jac:.3f}. GeneLab replication: "
                         f"{summ.get('genelab_replication', {}).get('mean_spearman', 'N/A')}")}


PROTOCOL_SAMPLES = {"seed": "every Flight / Ground sample (the seed's J2 script: no sample QC)",
                    "strict": "Flight / Ground samples kept by the sample QC (SPEC §4.2)"}


def j2_labels(metadata: pd.DataFrame, samples, protocol: str) -> pd.Series:
    """sample -> 1 (Flight) / 0 (Ground) of the samples in `samples` (the count columns) the protocol runs."""
    meta = metadata.loc[metadata.index.intersection(pd.Index(samples))]
    meta = meta[meta["label"].notna()]
    if protocol == "strict":
        meta = meta[~meta["excluded"].astype(bool)]
    return meta["label"].astype(float)


def for_protocol(results: dict, protocol: str) -> dict:
    """results (tissue -> mission -> mission_entry) under the protocol: seed unchanged; strict with the DEG
    Jaccard of two empty DEG lists recorded as None (undefined), so ``summary`` pools only defined pairs."""
    if protocol == "seed":
        return results
    return {t: {m: {**e, "pairwise_comparisons": [
        {**c, "deg_jaccard_005": None} if c["n_deg_a"] == 0 and c["n_deg_b"] == 0 else c
        for c in e["pairwise_comparisons"]]} for m, e in missions.items()} for t, missions in results.items()}
