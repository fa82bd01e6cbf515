"""Per-sample pathway scores (SPEC §9): GSVA (Gaussian or Poisson kernel) and ssGSEA, as R GSVA 1.46.

Input: genes x samples indexed by gene symbol (see `gene_sets.map_ensembl_to_symbols`); output:
pathways x samples (index name `pathway`, columns = the input samples in input order), float64.

Two protocols (SPEC §11):

- `seed` — `score_pathways` on one mission's samples, as published (GSVA per mission).
  GSVA runs through gseapy's `gsva` (its Rust port of R GSVA agrees with R 1.46 to ~1e-3, see
  tests). ssGSEA does not: gseapy's `ssgsea` ranks and weights differently (measured against R 1.46:
  min per-pathway r 0.998, max |diff| 0.009 after R's range normalization), so ssGSEA here is R's
  algorithm (`GSVA:::ssgsea` with `.fastRndWalk`, about 20 lines), which agrees with R to ~1e-14.
- `strict` — `gsva_with_reference`: the per-gene kernel CDFs (GSVA's only data-fitted step) are
  estimated on the reference (training) samples only and evaluated for every sample, then each
  sample is ranked and scored on its own. This is R GSVA's `compute.geneset.es(expr, gsets,
  sample.idxs)` with `sample.idxs` = the reference samples, so no test sample influences any
  training score. With all samples as reference it is ordinary GSVA (agrees with R to ~1e-13).

As in R GSVA 1.46: GSVA drops genes that are constant over the samples (over the reference samples
in the strict protocol), ssGSEA keeps them; gene sets are then restricted to the genes present and
kept when min_size <= size <= max_size. Genes with a missing value (absent from a study) are dropped
before scoring (R would refuse NaN; gseapy would silently fill it with 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, pdtr
from scipy.stats import rankdata

from genebench_assets.science.pathways.gene_sets import filter_gene_sets

METHODS = ("gsva", "ssgsea")
KCDFS = ("Gaussian", "Poisson")
# R GSVA .filterFeatures: sd below this counts as constant (numerical noise).
_CONSTANT_SD = 1e-10
# R GSVA kernel_estimation.c: Gaussian bandwidth = sd / 4; the normal CDF is read from a table of
# 10,001 points on [0, 10] standard deviations, truncating the index (reproduced exactly below).
_SIGMA_FACTOR = 4.0
_PRECOMPUTE_RESOLUTION = 10_000
_MAX_PRECOMPUTE = 10.0
_CDF_TABLE = ndtr(_MAX_PRECOMPUTE * np.arange(_PRECOMPUTE_RESOLUTION + 1) / _PRECOMPUTE_RESOLUTION)
_SIGNED_CDF_TABLE = np.concatenate([1.0 - _CDF_TABLE[:0:-1], _CDF_TABLE])  # entry i + 10000 for index i
# Elements of the (genes x test samples x reference samples) kernel block evaluated at once: a few
# MB, small enough to stay in cache, which is several times faster than one big block.
_KERNEL_BLOCK = 500_000


# --------------------------------------------------------------------------------------------------
# seed protocol: one call per mission


def score_pathways(
    expr_symbols: pd.DataFrame,
    gene_sets: Mapping[str, Iterable[str]],
    *,
    method: str = "gsva",
    kcdf: str = "Gaussian",
    min_size: int = 15,
    max_size: int = 500,
    threads: int = 1,
) -> pd.DataFrame:
    """Pathways x samples scores of a symbols x samples matrix (see `score_pathways_with_report`)."""
    scores, _ = score_pathways_with_report(
        expr_symbols, gene_sets, method=method, kcdf=kcdf, min_size=min_size, max_size=max_size, threads=threads
    )
    return scores


def score_pathways_with_report(
    expr_symbols: pd.DataFrame,
    gene_sets: Mapping[str, Iterable[str]],
    *,
    method: str = "gsva",
    kcdf: str = "Gaussian",
    min_size: int = 15,
    max_size: int = 500,
    threads: int = 1,
) -> tuple[pd.DataFrame, dict]:
    """(pathways x samples scores, report) as R GSVA 1.46 `gsva(expr, sets, method=, kcdf=)`.

    - method "gsva", kcdf "Gaussian": input log2(normalized count + 1); gseapy.gsva, tau 1, max-diff.
    - method "gsva", kcdf "Poisson": input normalized counts (not log); rounded to integers here, as
      the Poisson kernel needs counts; gseapy.gsva.
    - method "ssgsea": R's ssGSEA (alpha 0.25, scores divided by their overall range), kcdf unused.
    `threads` is passed to gseapy (ssGSEA is a single vectorized pass). Pathways come in the order of
    `gene_sets`; the report says which genes and sets were dropped and why."""
    method = _check_choice("method", method, METHODS)
    kcdf = _check_choice("kcdf", kcdf, KCDFS)
    values, genes, report = _prepare(expr_symbols, method=method, kcdf=kcdf)
    if method == "gsva":
        keep = _non_constant(values)
        report["dropped_constant_genes"] = int((~keep).sum())
        values, genes = values[keep], genes[keep]
    sets, set_report = filter_gene_sets(gene_sets, genes, min_size=min_size, max_size=max_size)
    _require_sets(sets, set_report)
    report.update(n_genes_used=int(len(genes)), gene_sets=set_report)

    if method == "ssgsea":
        es = _ssgsea_r(values, _set_rows(sets, genes))
        report["engine"] = "genebench port of R GSVA 1.46 ssgsea"
    else:
        es = _gseapy_gsva(values, genes, sets, kcdf=kcdf, min_size=min_size, max_size=max_size, threads=threads)
        report["engine"] = f"gseapy {_gseapy_version()} gsva"
    scores = pd.DataFrame(es, index=pd.Index(list(sets), name="pathway"), columns=expr_symbols.columns)
    return scores, report


def _gseapy_gsva(
    values: np.ndarray, genes: pd.Index, sets: dict[str, list[str]], *, kcdf: str, min_size: int, max_size: int,
    threads: int,
) -> np.ndarray:
    """gseapy.gsva on a plain matrix; returns ES as an array of len(sets) x samples."""
    import gseapy

    # gseapy upper-cases gene names when it guesses the case of data and sets differ; neutral ids
    # ("g0", "g1", ...) keep it from guessing, and duplicate-free ids keep it from averaging rows.
    ids = [f"g{i}" for i in range(len(genes))]
    row_of = dict(zip(genes, ids))
    sets_ids = {name: [row_of[g] for g in members] for name, members in sets.items()}
    columns = [f"s{j}" for j in range(values.shape[1])]
    data = pd.DataFrame(values, index=pd.Index(ids, name="gene"), columns=columns)
    result = gseapy.gsva(
        data, sets_ids, kcdf=kcdf, weight=1.0, mx_diff=True, abs_rnk=False,
        min_size=min_size, max_size=max_size, threads=threads, outdir=None, verbose=False,
    )
    table = result.res2d.pivot(index="Term", columns="Name", values="ES").astype("float64")
    missing = [name for name in sets if name not in table.index]
    if missing:  # gseapy also drops a set that covers every gene (R would return NA for it)
        raise ValueError(f"gseapy.gsva returned no score for gene set(s) {missing[:5]}")
    return table.reindex(index=list(sets), columns=columns).to_numpy()


def _ssgsea_r(values: np.ndarray, set_rows: dict[str, np.ndarray], alpha: float = 0.25) -> np.ndarray:
    """R GSVA 1.46 `ssgsea(X, geneSets, alpha, normalization=TRUE)`, vectorized over samples.

    R ranks each sample with average ties and stores the ranks as integers (truncating x.5), orders
    genes by decreasing rank (stable: ties keep row order), and for each set sums the random walk in
    closed form (`.fastRndWalk`); the scores are then divided by their range over all sets and samples."""
    n_genes, n_samples = values.shape
    ranks = np.trunc(rankdata(values, axis=0, method="average"))
    weights = ranks**alpha
    order = np.argsort(-ranks, axis=0, kind="stable")
    position = np.empty_like(order)  # 1-based position of each gene in its sample's ranking
    position[order, np.arange(n_samples)] = np.arange(1, n_genes + 1)[:, None]
    es = np.empty((len(set_rows), n_samples))
    for s, rows in enumerate(set_rows.values()):
        k = len(rows)
        steps = n_genes - position[rows] + 1  # k x samples
        w = weights[rows]
        in_set = (w * steps).sum(axis=0) / w.sum(axis=0)
        out_set = (n_genes * (n_genes + 1) / 2 - steps.sum(axis=0)) / (n_genes - k)
        es[s] = in_set - out_set
    return es / (es.max() - es.min())


# --------------------------------------------------------------------------------------------------
# strict protocol: kernel CDFs fitted on the reference (training) samples only


def gsva_with_reference(
    expr: pd.DataFrame,
    gene_sets: Mapping[str, Iterable[str]],
    reference_samples: Sequence[str],
    kcdf: str = "Gaussian",
    *,
    min_size: int = 15,
    max_size: int = 500,
    tau: float = 1.0,
) -> pd.DataFrame:
    """GSVA scores of every sample of `expr` with kernel CDFs estimated on `reference_samples` only.

    `expr` is symbols x samples: log2 expression for the Gaussian kernel, normalized counts for the
    Poisson kernel (rounded here). Everything fitted comes from the reference samples: the gene
    universe (genes with a value in every reference sample and not constant across them), the gene
    sets kept (sizes within that universe), and each gene's kernel CDF (Gaussian bandwidth = sd over
    the reference / 4; Poisson rate = reference count + 0.5). Each sample's score then depends only
    on its own values and those fits, so adding, removing or changing non-reference samples leaves
    the reference samples' scores unchanged. A non-reference sample without a value for a universe
    gene raises ValueError (restrict `expr` to genes shared by all samples first)."""
    kcdf = _check_choice("kcdf", kcdf, KCDFS)
    _check_matrix(expr)
    reference = list(dict.fromkeys(reference_samples))
    unknown = [s for s in reference if s not in expr.columns]
    if unknown:
        raise ValueError(f"reference sample(s) not in the expression columns: {unknown[:5]}")
    if len(reference) < 2:
        raise ValueError(f"need at least 2 reference samples to estimate kernel CDFs, got {len(reference)}")

    values = expr.to_numpy(dtype="float64")
    ref_cols = expr.columns.get_indexer(reference)
    ref_values = values[:, ref_cols]
    # Universe fitted on the reference only.
    genes_ok = np.isfinite(ref_values).all(axis=1)
    genes_ok[genes_ok] = _non_constant(ref_values[genes_ok])
    values = values[genes_ok]
    genes = expr.index[genes_ok]
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        raise ValueError(
            f"sample(s) {list(expr.columns[bad][:5])} lack values for genes the reference samples have; "
            "restrict the expression to genes present in all samples before scoring"
        )
    if kcdf == "Poisson":
        if (values < 0).any():
            raise ValueError("the Poisson kernel needs non-negative normalized counts (not log values)")
        values = np.rint(values)
    sets, set_report = filter_gene_sets(gene_sets, genes, min_size=min_size, max_size=max_size)
    _require_sets(sets, set_report)

    density = gsva_kernel_density(values[:, ref_cols], values, kcdf=kcdf)
    es = gsva_scores_from_density(density, _set_rows(sets, genes), tau=tau)
    return pd.DataFrame(es, index=pd.Index(list(sets), name="pathway"), columns=expr.columns)


def gsva_kernel_density(reference: np.ndarray, test: np.ndarray, *, kcdf: str = "Gaussian") -> np.ndarray:
    """GSVA's per-gene kernel CDF statistic: genes x test samples, log(F / (1 - F)).

    F(y) = mean over reference values x of K(y - x): for the Gaussian kernel Phi((y - x) / h) with
    h = sd(reference) / 4 read from R's 10,001-point table; for the Poisson kernel
    P(Poisson(x + 0.5) <= y). Same as R GSVA's `matrix_density_R` (kernel_estimation.c).
    Computed in blocks of genes so memory stays bounded."""
    kcdf = _check_choice("kcdf", kcdf, KCDFS)
    n_genes, n_ref = reference.shape
    n_test = test.shape[1]
    if test.shape[0] != n_genes:
        raise ValueError(f"reference and test have different gene counts ({n_genes} vs {test.shape[0]})")
    out = np.empty((n_genes, n_test))
    block = max(1, _KERNEL_BLOCK // max(1, n_ref * n_test))
    bandwidth = reference.std(axis=1, ddof=1) / _SIGMA_FACTOR if kcdf == "Gaussian" else None
    for start in range(0, n_genes, block):
        stop = min(start + block, n_genes)
        ref, tst = reference[start:stop], test[start:stop]
        if kcdf == "Gaussian":
            v = np.subtract(tst[:, :, None], ref[:, None, :])
            v /= bandwidth[start:stop, None, None]
            # R: Phi(v) = table[(int)(|v| / 10 * 10000)], 1 - that for v < 0, 0 / 1 beyond -10 / 10.
            # Truncating the signed value toward zero gives the same index with its sign, so one
            # lookup in a signed table (1 - table reversed, then table) does both branches; capping
            # at +-10000 reproduces the tails because table[10000] = Phi(10) == 1.0 in double.
            v /= _MAX_PRECOMPUTE
            v *= _PRECOMPUTE_RESOLUTION
            np.clip(v, -_PRECOMPUTE_RESOLUTION, _PRECOMPUTE_RESOLUTION, out=v)
            index = v.astype(np.intp)
            index += _PRECOMPUTE_RESOLUTION
            cdf = np.take(_SIGNED_CDF_TABLE, index)
        else:
            cdf = pdtr(tst[:, :, None], ref[:, None, :] + 0.5)
        left_tail = cdf.mean(axis=2)
        # A non-reference value beyond every reference value's kernel gives F = 0 or 1, i.e. -inf or
        # +inf, as in R; it simply ranks first or last.
        with np.errstate(divide="ignore", over="ignore"):
            out[start:stop] = -1.0 * np.log((1.0 - left_tail) / left_tail)
    return out


def gsva_scores_from_density(density: np.ndarray, set_rows: Mapping[str, np.ndarray], *, tau: float = 1.0) -> np.ndarray:
    """GSVA enrichment scores (sets x samples) from the kernel statistic, as R GSVA 1.46.

    Per sample, genes are ordered by decreasing statistic (ties keep row order, as R's `order`),
    each gets the symmetric rank score |n - position + 1 - n/2|, and each set's Kolmogorov-Smirnov
    random walk (in-set steps proportional to score^tau, out-of-set steps 1/(n - k)) gives
    ES = max positive deviation + max negative deviation (mx.diff = TRUE, abs.ranking = FALSE).
    The walk only turns at in-set genes, so its extremes are read at those k positions instead of
    walking all n genes: the maximum right after an in-set gene, the minimum right before one."""
    n_genes, n_samples = density.shape
    order = np.argsort(-density, axis=0, kind="stable")
    position = np.empty_like(order)
    position[order, np.arange(n_samples)] = np.arange(1, n_genes + 1)[:, None]
    rank_score = np.abs(n_genes - position + 1 - n_genes / 2.0)
    es = np.empty((len(set_rows), n_samples))
    for s, rows in enumerate(set_rows.values()):
        k = len(rows)
        pos = position[rows]
        by_pos = np.argsort(pos, axis=0)
        pos = np.take_along_axis(pos, by_pos, axis=0)
        step = np.take_along_axis(rank_score[rows] ** tau, by_pos, axis=0)
        cum_in = np.cumsum(step, axis=0) / step.sum(axis=0)
        # out-of-set genes passed before the i-th in-set gene (i = 1..k), scaled as R's `dec`
        out_before = (pos - np.arange(1, k + 1)[:, None]) / (n_genes - k)
        peak = (cum_in - out_before).max(axis=0)
        cum_prev = np.vstack([np.zeros((1, n_samples)), cum_in[:-1]])
        trough = (cum_prev - out_before).min(axis=0)
        es[s] = np.maximum(peak, 0.0) + np.minimum(trough, 0.0)
    return es


# --------------------------------------------------------------------------------------------------
# helpers


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _check_matrix(expr: pd.DataFrame) -> None:
    if not isinstance(expr, pd.DataFrame):
        raise TypeError(f"expression must be a pandas DataFrame (genes x samples), got {type(expr).__name__}")
    if expr.shape[0] == 0 or expr.shape[1] == 0:
        raise ValueError(f"empty expression matrix ({expr.shape[0]} genes x {expr.shape[1]} samples)")
    if expr.index.has_duplicates:
        dup = expr.index[expr.index.duplicated()].unique()
        raise ValueError(f"duplicate gene symbols in the expression index: {list(dup[:5])}; "
                         "map to unique symbols first (gene_sets.map_ensembl_to_symbols)")
    if expr.columns.has_duplicates:
        raise ValueError(f"duplicate sample ids: {list(expr.columns[expr.columns.duplicated()][:5])}")
    non_numeric = [c for c in expr.columns if not pd.api.types.is_numeric_dtype(expr[c])]
    if non_numeric:
        raise ValueError(f"non-numeric expression column(s): {non_numeric[:5]}")


def _prepare(expr: pd.DataFrame, *, method: str, kcdf: str) -> tuple[np.ndarray, pd.Index, dict]:
    """Checked float matrix without genes that miss a value, rounded for the Poisson kernel."""
    _check_matrix(expr)
    values = expr.to_numpy(dtype="float64")
    finite = np.isfinite(values).all(axis=1)
    report = {
        "method": method,
        "kcdf": kcdf if method == "gsva" else None,
        "n_samples": int(values.shape[1]),
        "n_genes_input": int(values.shape[0]),
        "dropped_missing_genes": int((~finite).sum()),
    }
    values, genes = values[finite], expr.index[finite]
    if method == "gsva" and kcdf == "Poisson":
        if (values < 0).any():
            raise ValueError("the Poisson kernel needs non-negative normalized counts (not log values)")
        values = np.rint(values)  # half to even, as R's round()
    return values, genes, report


def _non_constant(values: np.ndarray) -> np.ndarray:
    if values.shape[1] < 2:
        return np.zeros(values.shape[0], dtype=bool)
    return values.std(axis=1, ddof=1) >= _CONSTANT_SD


def _set_rows(sets: Mapping[str, list[str]], genes: pd.Index) -> dict[str, np.ndarray]:
    row = {g: i for i, g in enumerate(genes)}
    return {name: np.fromiter((row[g] for g in members), dtype=np.intp, count=len(members)) for name, members in sets.items()}


def _require_sets(sets: dict, report: dict) -> None:
    if not sets:
        reasons = list(report["dropped"].items())[:3]
        raise ValueError(
            f"no gene set has {report['min_size']}..{report['max_size']} genes in the data "
            f"({report['universe_size']} genes); e.g. {reasons}. Check that the expression index holds "
            "gene symbols of the same species and case as the gene sets"
        )


def _gseapy_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gseapy")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"
