"""Materialized tables on disk: `<data_dir>/tables/<asset>/<part>/<part>.<ext>`, written atomically.

Every write returns the file's sha256, which the Dagster layer records as the data version, so a
changed input shows up as a changed version all the way down to the AUROC it feeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from genebench_assets.science.storage.atomic_files import sha256_file, write_json, write_parquet


class TableNotFoundError(FileNotFoundError):
    pass


class TableStore:
    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir) / "tables"

    def path(self, asset: str, *parts: str, ext: str = "parquet") -> Path:
        if not parts:
            return self.root / asset / f"{asset}.{ext}"
        return self.root.joinpath(asset, *parts[:-1]) / f"{parts[-1]}.{ext}"

    def write_frame(self, df: pd.DataFrame, asset: str, *parts: str) -> tuple[Path, str]:
        target = write_parquet(df, self.path(asset, *parts))
        return target, sha256_file(target)

    def write_json(self, obj: Any, asset: str, *parts: str) -> tuple[Path, str]:
        target = write_json(obj, self.path(asset, *parts, ext="json"))
        return target, sha256_file(target)

    def read_frame(self, asset: str, *parts: str) -> pd.DataFrame:
        p = self.path(asset, *parts)
        if not p.exists():
            raise TableNotFoundError(f"{asset} {'/'.join(parts)}: not materialized yet (no {p})")
        return pd.read_parquet(p)

    def read_json(self, asset: str, *parts: str) -> Any:
        p = self.path(asset, *parts, ext="json")
        if not p.exists():
            raise TableNotFoundError(f"{asset} {'/'.join(parts)}: not materialized yet (no {p})")
        return json.loads(p.read_text())

    def exists(self, asset: str, *parts: str, ext: str = "parquet") -> bool:
        return self.path(asset, *parts, ext=ext).exists()

    def sha256(self, asset: str, *parts: str, ext: str = "parquet") -> str:
        return sha256_file(self.path(asset, *parts, ext=ext))
