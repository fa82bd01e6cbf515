"""Where outputs go (GENEBENCH_DATA_DIR), without Dagster: the CLI checks its arguments and reads the
catalog with it before Dagster is imported; `defs/runtime/settings.py` builds its resource on it."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

REPO_ROOT = Path(__file__).resolve().parents[3]


def default_data_dir() -> str:
    return local_data_dir(os.environ.get("GENEBENCH_DATA_DIR", str(REPO_ROOT / "data")))


def local_data_dir(value: str) -> str:
    """GENEBENCH_DATA_DIR as a local path: a path, or a `file://` URL (fsspec / universal_pathlib).
    Other fsspec URLs are refused: caches, the demo mirror and catalog additions need a local disk
    (the table store alone works on any fsspec URL: science/storage/table_store.py)."""
    if "://" not in value:
        return value
    from upath import UPath

    url = UPath(value)
    if url.protocol not in ("file", "local"):
        raise ValueError(f"GENEBENCH_DATA_DIR: {value!r} uses protocol {url.protocol!r}; use a local path "
                         "or a file:// URL")
    return unquote(url.path)  # a file:// URL is percent-encoded ("data%20dir")
