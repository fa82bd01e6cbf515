"""Normalized expression per (tissue, mission): DESeq2 size factors -> normalized -> log2(x + 1)."""


import pandas as pd

import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.runtime.partitions import study_partitions
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.assets import REAL_PAIRS_NOTE, raw_counts, sample_metadata
from genebench_assets.defs.gating.study_partition import StudyPartition, absent_results


@dg.asset(
    code_version=code_version_of(__file__, "normalized_expression"),
    group_name="expression",
    partitions_def=study_partitions,
    deps=[raw_counts, sample_metadata],
    description="DESeq2 median-of-ratios size factors (pydeseq2), per study, on the samples that pass "
    "QC -> normalized counts -> log2(x + 1) (SPEC §4.1). Genes absent from a study stay missing.\n\n"
    + REAL_PAIRS_NOTE,
)
def normalized_expression(context: dg.AssetExecutionContext, settings: GenebenchSettings):
    from genebench_assets.science.expression.normalization import log2_normalized

    study = StudyPartition.open(context, settings)
    if study is None:  # an absent pair: its explicit record, no table (partitions.py)
        yield from absent_results(context, settings)
        return
    counts, meta = study.read("raw_counts"), study.read("sample_metadata")
    qc_failed = meta["qc_reason"].fillna("").astype(str).str.len() > 0 if "qc_reason" in meta else False
    keep = meta.index[~qc_failed]
    parts, factors = [], []
    for osd, ids in meta.loc[keep].groupby("osd").groups.items():
        study_counts = counts[list(ids)].dropna(axis=0, how="any").astype("int64")
        log2_expr, sf = log2_normalized(study_counts, study=osd)
        parts.append(log2_expr)
        factors.append(sf.rename("size_factor").to_frame().assign(osd=osd))
    # Outer join across studies of one pair: a gene absent from one study is missing, never 0.
    expr = pd.concat(parts, axis=1, join="outer")
    expr.index.name = "gene_id"
    sf = pd.concat(factors)
    sha = study.write(expr, "normalized_expression")
    study.write(sf, "size_factors")
    yield dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "n_genes": expr.shape[0],
            "n_samples": expr.shape[1],
            "n_qc_dropped": int(len(meta) - len(keep)),
            "size_factor_range": f"{sf['size_factor'].min():.3f} – {sf['size_factor'].max():.3f}",
            "missing_fraction": float(expr.isna().to_numpy().mean()),
            "sha256": sha,
            **study.provenance("raw_counts", "sample_metadata"),
        },
    )
