"""Gene sets (SPEC §9): GMT files, Ensembl -> symbol mapping of expression, and size filtering.

- `read_gmt` parses the Broad GMT format (name, description, genes, tab separated); malformed lines
  raise `GeneSetFileError` naming the file and the line.
- `read_symbol_map` reads a CSV `ENSEMBL,SYMBOL` into a Series ensembl -> symbol.
- `map_ensembl_to_symbols` turns a genes x samples matrix with Ensembl ids into symbols x samples:
  unmapped genes are dropped; when several Ensembl ids share a symbol the one with the highest
  variance (over the samples given, ddof = 1) is kept, as SPEC §9 says. Rows keep their input order,
  because rank-based scores (GSVA, ssGSEA) break ties by row order, as R does.
- `filter_gene_sets` restricts each set to a gene universe and keeps sets of min_size..max_size genes
  (GSVA's defaults 15 / 500), with a report of what was kept and why the rest was dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd


class GeneSetFileError(ValueError):
    """A gene-set or symbol-map file that cannot be read; the message names the file (and line)."""


def read_gmt(path: str | Path) -> dict[str, list[str]]:
    """Gene sets of a GMT file as {set name: genes in file order, duplicates removed}.

    Blank lines are skipped and empty gene fields (trailing tabs) ignored. A line without a tab, with
    an empty set name, without any gene, or a set name seen before raises GeneSetFileError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GeneSetFileError(f"{path}: cannot read GMT file: {exc}") from exc
    sets: dict[str, list[str]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        name = fields[0].strip()
        if len(fields) < 2:
            raise GeneSetFileError(f"{path}:{lineno}: expected 'name<TAB>description<TAB>genes...', found no tab")
        if not name:
            raise GeneSetFileError(f"{path}:{lineno}: empty gene set name")
        genes = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
        if not genes:
            raise GeneSetFileError(f"{path}:{lineno}: gene set {name!r} lists no genes")
        if name in sets:
            raise GeneSetFileError(f"{path}:{lineno}: gene set {name!r} appears twice")
        sets[name] = genes
    if not sets:
        raise GeneSetFileError(f"{path}: no gene sets in file")
    return sets


def read_symbol_map(path: str | Path) -> pd.Series:
    """Ensembl id -> symbol from a CSV with columns ENSEMBL and SYMBOL (index name `gene_id`).

    Rows with an empty symbol are dropped; an Ensembl id listed twice with different symbols raises."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as exc:
        raise GeneSetFileError(f"{path}: cannot read symbol map: {exc}") from exc
    missing = {"ENSEMBL", "SYMBOL"} - set(table.columns)
    if missing:
        raise GeneSetFileError(f"{path}: symbol map lacks column(s) {sorted(missing)} (has {list(table.columns)})")
    table = table[["ENSEMBL", "SYMBOL"]].dropna()
    table = table[table["SYMBOL"].str.strip() != ""].drop_duplicates()
    conflicting = table.loc[table["ENSEMBL"].duplicated(keep=False), "ENSEMBL"].unique()
    if len(conflicting):
        raise GeneSetFileError(
            f"{path}: Ensembl id(s) mapped to more than one symbol: {', '.join(conflicting[:5])}"
        )
    series = pd.Series(table["SYMBOL"].str.strip().to_numpy(), index=table["ENSEMBL"].to_numpy(), name="symbol")
    series.index.name = "gene_id"
    series.attrs["source"] = str(path)  # named in the "0 of N gene ids mapped" error
    return series


def map_ensembl_to_symbols(
    expr: pd.DataFrame, symbol_map: pd.Series, *, variance_samples: Sequence[str] | None = None
) -> tuple[pd.DataFrame, dict]:
    """(symbols x samples, report) from a genes x samples matrix indexed by Ensembl id.

    Unmapped genes are dropped. Among genes sharing a symbol the highest-variance one is kept
    (variance over `variance_samples`, default all columns, ddof = 1, NaN ignored; a tie keeps the
    first row). The strict protocol passes the training samples, so the choice is fitted on them
    only. The kept rows stay in input order; the index is the symbol (name `symbol`)."""
    if expr.index.has_duplicates:
        dup = expr.index[expr.index.duplicated()].unique()
        raise ValueError(f"expression index has duplicate gene ids: {', '.join(map(str, dup[:5]))}")
    symbols = expr.index.map(symbol_map)  # NaN where unmapped
    mapped = pd.notna(symbols)
    if len(expr) and not mapped.any():
        # Otherwise this surfaces later as "empty expression matrix (0 genes x n samples)".
        examples = ", ".join(map(str, expr.index[:3]))
        known = ", ".join(map(str, symbol_map.index[:2]))
        raise GeneSetFileError(
            f"0 of {len(expr)} gene ids mapped to a symbol (symbol map: {symbol_map.attrs.get('source', 'in memory')}, "
            f"{len(symbol_map)} ids such as {known}; the expression has ids such as {examples}): "
            "wrong species, id type or id version?")
    sub = expr.loc[mapped]
    sub_symbols = pd.Index(symbols[mapped], name="symbol")

    columns = sub.columns if variance_samples is None else pd.Index(list(variance_samples))
    unknown = columns.difference(sub.columns)
    if len(unknown):
        raise ValueError(f"variance sample(s) not in the expression columns: {list(unknown[:5])}")
    variance = sub[columns].var(axis=1, ddof=1, skipna=True).fillna(-np.inf).to_numpy()
    frame = pd.DataFrame({"symbol": sub_symbols, "var": variance, "pos": np.arange(len(sub))})
    # Highest variance first, then input order: the first row of each symbol is the one to keep.
    winners = frame.sort_values(["var", "pos"], ascending=[False, True], kind="mergesort").drop_duplicates("symbol")
    keep_pos = np.sort(winners["pos"].to_numpy())
    out = sub.iloc[keep_pos].copy()
    out.index = pd.Index(sub_symbols[keep_pos], name="symbol")

    dup_counts = frame["symbol"].value_counts()
    dup_symbols = dup_counts[dup_counts > 1]
    kept_for_dup = winners.set_index("symbol").loc[dup_symbols.index, "pos"] if len(dup_symbols) else pd.Series(dtype=int)
    report = {
        "n_input_genes": int(len(expr)),
        "n_unmapped": int((~mapped).sum()),
        "n_mapped": int(mapped.sum()),
        "n_duplicate_symbols": int(len(dup_symbols)),
        "n_dropped_duplicates": int(dup_symbols.sum() - len(dup_symbols)),
        "n_output_genes": int(len(out)),
        # a few examples, so the metadata shows what happened without listing thousands of ids
        "unmapped_examples": [str(g) for g in expr.index[~mapped][:10]],
        "duplicate_examples": {
            str(sym): str(sub.index[int(pos)]) for sym, pos in list(kept_for_dup.items())[:10]
        },
    }
    return out, report


def filter_gene_sets(
    sets: Mapping[str, Iterable[str]],
    universe: Iterable[str],
    min_size: int = 15,
    max_size: int = 500,
) -> tuple[dict[str, list[str]], dict]:
    """(kept sets restricted to the universe, report) keeping sets with min_size..max_size genes present.

    The report lists kept set names with their sizes, dropped names with the reason, and how many
    universe genes the kept sets cover."""
    if min_size < 1 or max_size < min_size:
        raise ValueError(f"need 1 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}")
    universe_set = set(universe)
    kept: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    for name, genes in sets.items():
        genes = list(dict.fromkeys(genes))
        present = [g for g in genes if g in universe_set]
        n = len(present)
        if n < min_size:
            dropped[name] = f"too small: {n} of {len(genes)} genes in the data (min {min_size})"
        elif n > max_size:
            dropped[name] = f"too large: {n} of {len(genes)} genes in the data (max {max_size})"
        else:
            kept[name] = present
    covered = set().union(*kept.values()) if kept else set()
    report = {
        "n_sets": len(kept) + len(dropped),
        "n_kept": len(kept),
        "n_dropped": len(dropped),
        "kept": {name: len(genes) for name, genes in kept.items()},
        "dropped": dropped,
        "min_size": int(min_size),
        "max_size": int(max_size),
        "universe_size": len(universe_set),
        "genes_covered": len(covered),
    }
    return kept, report
