"""DESeq2 Flight vs Ground with pydeseq2 (Wald test), for prerank GSEA and NES (SPEC §8, §9).

The result is label-derived: it feeds NES only and must never become a Category A feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genebench_assets.science.osdr.source_files import StudyDataError


def deseq2_wald(counts: pd.DataFrame, condition: pd.Series, *, test: str, reference: str,
                n_cpus: int = 1) -> pd.DataFrame:
    """DESeq2 ~condition on genes x samples counts; returns baseMean, log2FoldChange, lfcSE, stat, pvalue,
    padj per gene with the sign: positive = higher in `test` than in `reference`."""
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats

    samples = list(condition.index)
    X = counts[samples].T.astype("int64")
    meta = pd.DataFrame({"condition": condition.astype(str).to_numpy()}, index=samples)
    # pydeseq2 requires at least one count per gene; all-zero genes get NaN statistics, as in R.
    nonzero = X.columns[(X.sum(axis=0) > 0).to_numpy()]
    dds = DeseqDataSet(counts=X[nonzero], metadata=meta, design="~condition", refit_cooks=True,
                       quiet=True, n_cpus=n_cpus)
    dds.deseq2()
    stats = DeseqStats(dds, contrast=["condition", test, reference], quiet=True, n_cpus=n_cpus)
    stats.summary()
    res = stats.results_df.reindex(counts.index)
    res.index.name = counts.index.name or "gene_id"
    return res[["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]]


def deseq2_flight_vs_ground(counts: pd.DataFrame, metadata: pd.DataFrame, *, n_cpus: int = 1) -> pd.DataFrame:
    """Flight vs Ground (GC + VC) on the binary, non-excluded samples of a study pair."""
    keep = metadata[metadata["label"].notna() & ~metadata["excluded"].astype(bool)]
    keep = keep.loc[keep.index.intersection(counts.columns)]
    n_flight, n_ground = int((keep["label"] == 1).sum()), int((keep["label"] == 0).sum())
    if n_flight < 2 or n_ground < 2:
        osd = ",".join(sorted(metadata["osd"].astype(str).unique())) if "osd" in metadata else "?"
        raise StudyDataError(osd, None, f"DESeq2 needs >= 2 Flight and >= 2 Ground samples, got {n_flight} / {n_ground}")
    condition = keep["label"].map({1.0: "Flight", 0.0: "Ground"})
    sub = counts[condition.index].dropna(axis=0, how="any")
    res = deseq2_wald(sub, condition, test="Flight", reference="Ground", n_cpus=n_cpus)
    res = res.rename(columns={"log2FoldChange": "log2FC"})
    return res.replace([np.inf, -np.inf], np.nan)
