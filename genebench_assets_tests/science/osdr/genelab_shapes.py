"""GeneLab files shaped like the ones OSDR serves (issue 19, item 6), for the parser, mirror and live tests.

The older GeneLab pipeline's counts table (e.g. RR-1, 12 samples, 55,536 genes, named
`GLDS-N_rna_seq_Unnormalized_Counts.csv`) is R `write.csv` output: quoted header with an empty first
cell, quoted Ensembl ids, RSEM *expected* counts with fractions, CRLF line endings and no final
newline. Newer tables have LF and a final newline. Values here are seeded and deterministic.
"""

from __future__ import annotations

import numpy as np

# Every counts name variant OSDR serves, by quantifier (suffix after the GLDS prefix).
RSEM_SUFFIXES = {
    "RSEM_GLbulkRNAseq": "_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv",
    "RSEM_rRNArm_GLbulkRNAseq": "_rna_seq_RSEM_Unnormalized_Counts_rRNArm_GLbulkRNAseq.csv",
    "RSEM": "_rna_seq_RSEM_Unnormalized_Counts.csv",
    "old_GLDS_rna_seq": "_rna_seq_Unnormalized_Counts.csv",
}
STAR_SUFFIXES = {
    "STAR_GLbulkRNAseq": "_rna_seq_STAR_Unnormalized_Counts_GLbulkRNAseq.csv",
    "STAR": "_rna_seq_STAR_Unnormalized_Counts.csv",
}


def counts_values(samples: list[str], n_genes: int = 40, *, fractional: bool = True, seed: int = 0) -> np.ndarray:
    """genes x samples expected counts: some zeros, fractions with two decimals when `fractional`."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(0.8, 300.0, size=(n_genes, 1)) * rng.uniform(0.6, 1.6, size=(1, len(samples)))
    values = rng.poisson(base).astype(float)
    if fractional:
        values = values + np.round(rng.uniform(0, 1, size=values.shape), 2) * (values > 0)
    values[0, :] = 0.0  # a gene with no reads, as real tables have
    return values


def gene_ids(n_genes: int) -> list[str]:
    return [f"ENSMUSG{i:011d}" for i in range(1, n_genes + 1)]


def counts_bytes(samples: list[str], values: np.ndarray, *, crlf: bool = True, final_newline: bool = False) -> bytes:
    """The table as R write.csv leaves it (quoted header and ids), with the given line endings."""
    eol = "\r\n" if crlf else "\n"
    lines = [",".join(['""'] + [f'"{s}"' for s in samples])]
    for gene, row in zip(gene_ids(len(values)), values):
        lines.append(",".join([f'"{gene}"'] + [f"{v:.2f}".rstrip("0").rstrip(".") if v % 1 else str(int(v)) for v in row]))
    return (eol.join(lines) + (eol if final_newline else "")).encode()


def runsheet_bytes(samples: list[str], groups: list[str], *, crlf: bool = True) -> bytes:
    eol = "\r\n" if crlf else "\n"
    lines = ["Sample Name,Factor Value[Spaceflight]"] + [f"{s},{g}" for s, g in zip(samples, groups)]
    return (eol.join(lines) + eol).encode()


def rr1_samples(n_per_group: int = 6) -> tuple[list[str], list[str]]:
    """Sample names and groups of a 12-sample RR-1 study (6 Flight, 6 Ground Control)."""
    samples = [f"Mmus_C57-6J_RTN_FLT_Rep{i}_M{20 + i}" for i in range(1, n_per_group + 1)]
    samples += [f"Mmus_C57-6J_RTN_GC_Rep{i}_M{30 + i}" for i in range(1, n_per_group + 1)]
    return samples, ["Space Flight"] * n_per_group + ["Ground Control"] * n_per_group


def cut_mid_line(data: bytes) -> bytes:
    """The file cut inside its last line, past its first field: fewer fields than the header, no newline."""
    data = data.rstrip(b"\r\n")
    start = data.rindex(b"\n") + 1
    return data[: start + (len(data) - start) // 2]


def median_of_ratios(counts: np.ndarray) -> np.ndarray:
    """DESeq2's size factors, written out independently: per sample the median over genes with no zero
    of count / geometric mean of the gene."""
    positive = (counts > 0).all(axis=1)
    logs = np.log(counts[positive])
    return np.exp(np.median(logs - logs.mean(axis=1, keepdims=True), axis=0))
