"""Write files so that a reader never sees half of one: write to a temp file beside it, fsync it, then
rename it into place (and fsync the folder), so neither a reader nor a power cut sees half a file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not imported at run time: the CLI reads catalog additions before pandas is needed
    import pandas as pd


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (os.umask() can only be read
    by setting it, which would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success rename it over the target, else delete it.

    The file gets the mode a plain `open(..., "w")` would give (0666 minus the umask, e.g. 0644), not
    mkstemp's private 0600: outputs on a shared HPC mirror must stay readable by the group."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~current_umask())
        _fsync(tmp_path)  # the bytes reach the disk before the name does: no empty file after a power cut
        os.replace(tmp_path, target)
        _fsync(target.parent)  # and the rename itself is durable
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems (and directories on some OSes) cannot be fsynced; the rename still holds
        pass
    finally:
        os.close(fd)


def write_parquet(df: pd.DataFrame, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        df.to_parquet(tmp)
    return Path(target)


def write_json(obj: Any, target: str | Path, *, sort_keys: bool = True, indent: int = 1) -> Path:
    """sort_keys=False keeps the caller's key order (published result schemas are ordered)."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(obj, indent=indent, sort_keys=sort_keys, default=_json_default))
    return Path(target)


def write_text(text: str, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
