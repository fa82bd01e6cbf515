"""Explicit provenance in asset metadata (Dagster's own gives up past 100 partitions).

Every asset records: the upstream assets and partitions it read with their data versions (sha256 of
the stored file), the code version, the protocol, and the raw OSDR files behind it (accession, file
name, sha256), carried down from `raw_counts`. `genebench lineage` reads this back."""

from __future__ import annotations

from typing import Any

import dagster as dg

import genebench_assets

CODE_VERSION = genebench_assets.__version__


def provenance_metadata(
    *,
    upstream: list[dict[str, Any]],
    raw_files: list[dict[str, Any]],
    protocol: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """upstream: [{asset, partition, data_version}]; raw_files: [{osd, file_name, sha256, ...}]."""
    prov = {
        "code_version": CODE_VERSION,
        "protocol": protocol,
        "upstream": upstream,
        "raw_files": _dedupe_files(raw_files),
    }
    if extra:
        prov.update(extra)
    return {"provenance": dg.MetadataValue.json(prov)}


def _dedupe_files(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in files:
        seen.setdefault((f.get("osd", ""), f.get("file_name", ""), f.get("sha256", "")), f)
    return sorted(seen.values(), key=lambda f: (f.get("osd", ""), f.get("file_name", "")))


def raw_files_markdown(files: list[dict[str, Any]]) -> str:
    rows = ["| accession | file | sha256 | source | size |", "|---|---|---|---|---|"]
    for f in _dedupe_files(files):
        rows.append(
            f"| {f.get('osd')} | {f.get('file_name')} | `{str(f.get('sha256', ''))[:16]}…` | "
            f"{f.get('source_mode')} | {f.get('size')} |"
        )
    return "\n".join(rows)


def frame_markdown(df, max_rows: int = 40) -> str:
    """A small DataFrame as a markdown table for the UI (no tabulate dependency)."""
    df = df.head(max_rows)
    cols = [str(c) for c in df.columns]
    idx_name = df.index.name or ""
    lines = ["| " + " | ".join([idx_name, *cols]) + " |", "|" + "---|" * (len(cols) + 1)]
    for idx, row in df.iterrows():
        vals = [_fmt(v) for v in row.tolist()]
        lines.append("| " + " | ".join([str(idx), *vals]) + " |")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)
