"""Read the cells of an already structure-checked CSV with polars; hand pandas the result.

`parsing.read_counts_csv` first checks a counts file's structure (rectangular, header, last line)
and then needs its cells: a gene-id column kept as text, and per sample column either numbers or,
when a cell is not a number, the original text (so the error can quote the cell). This is that
second step with polars' multi-threaded reader instead of `pandas.read_csv` (benchmarks/counts_parsing.py
measures both on a GeneLab-sized file), converted to pandas at the boundary.

Semantics kept from the pandas call it replaces (`header=0, dtype={0: str}, keep_default_na=False,
na_values=[], encoding="utf-8-sig"`): nothing is read as missing (an empty cell is ""), a column
whose every cell is an integer is int64, one whose every cell is a number is float64, any other
column keeps its strings (object dtype), a UTF-8 byte-order mark is not part of the first name, empty lines are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import polars as pl

BOM = b"\xef\xbb\xbf"
BLANK_LINE = re.compile(rb"(?m)^\r?\n")


def read_csv_cells(path: str | Path) -> pd.DataFrame:
    """The data cells of a CSV with a header row, as a pandas DataFrame (see the module docstring)."""
    data = Path(path).read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM):]
    if BLANK_LINE.search(data):  # pandas skips empty lines; polars would read them as rows of ""
        data = BLANK_LINE.sub(b"", data)
    try:
        raw = pl.read_csv(data, has_header=True, infer_schema=False, empty_string_is_null=False,
                          encoding="utf8", quote_char='"')
    except pl.exceptions.PolarsError as exc:  # callers handle ValueError, as from pandas.read_csv
        raise ValueError(str(exc).splitlines()[0]) from None
    first, names = raw.columns[0], raw.columns[1:]
    # Every column cast at once (polars runs the casts in parallel); a cast that produced no null
    # parsed every cell, since no cell is null (an empty cell is "").
    floats = raw.select(pl.col(names).cast(pl.Float64, strict=False))
    parsed = [n for n, nulls in zip(names, floats.null_count().row(0)) if nulls == 0]
    # Only columns of whole numbers can be integer columns ("2.00" is not: pandas reads it as float).
    whole = floats.select((pl.col(parsed) == pl.col(parsed).floor()).all()).row(0) if parsed else ()
    ints = raw.select(pl.col([n for n, w in zip(parsed, whole) if w]).cast(pl.Int64, strict=False))
    int_nulls = dict(zip(ints.columns, ints.null_count().row(0)))
    parsed = set(parsed)
    out: dict[str, object] = {first: raw.get_column(first).to_numpy().astype(object)}
    for name in names:
        if name in parsed:
            out[name] = (ints if int_nulls.get(name) == 0 else floats).get_column(name).to_numpy()
            continue
        cells = raw.get_column(name)
        numbers = cells.str.strip_chars(" \t")  # pandas' C parser reads " 12" as 12 too
        as_int, as_float = numbers.cast(pl.Int64, strict=False), numbers.cast(pl.Float64, strict=False)
        out[name] = (as_int.to_numpy() if not as_int.null_count() else as_float.to_numpy()
                     if not as_float.null_count() else cells.to_numpy().astype(object))
    return pd.DataFrame(out, columns=raw.columns)
