"""The one markdown-table renderer (GitHub pipe tables, via tabulate) for the UI's and reports' tables.

Cells are rendered as given (strings formatted by the caller, `str()` of anything else): no number
re-parsing and no padding, so `| a | 0.750 |` reads the same in the raw text as in the rendered table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabulate import tabulate


def markdown_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table: `header` then one line per row (no trailing newline). A line
    break inside a cell becomes a space (a table row is one line)."""
    def cell(value: object) -> str:
        return " ".join(str(value).splitlines())

    return tabulate([[cell(c) for c in row] for row in rows], headers=[cell(h) for h in header], tablefmt="github",
                    disable_numparse=True, stralign=None, numalign=None)
