"""Materialized tables on disk: `<data_dir>/tables/<asset>/<part>/<part>.<ext>`, written atomically.

Every write returns the file's sha256, which the Dagster layer records as the data version, so a
changed input shows up as a changed version all the way down to the AUROC it feeds.

Two further rules (docs/ARCHITECTURE.md, "Blocking and promotion", "Protocols"):

- Protocol is part of a table's identity. A store opened with `protocol=` puts the assets listed in
  `protocol_assets` under `tables/<protocol>/<asset>/...`, so seed and strict outputs stand side by
  side; opening such an asset without a protocol is an error, never a silent fallback.
- A study partition's tables at `tables/<asset>/<tissue>/<mission>` are its *working copy*: what the
  last run wrote, read only by the study's own assets and checks. Everything downstream of a study
  reads its *promoted* version: an immutable snapshot `tables/_promoted/<tissue>/<mission>/<version>/`
  named by the hash of its files, made visible by atomically replacing the pointer `CURRENT.json`.
  A snapshot is promoted only after the study's blocking checks passed (decided in the Dagster layer).
- `data_dir` is a local path, a `file://` URL (the same: temp file + rename), or another fsspec URL
  (universal_pathlib), where each table is one whole-object write (atomic on object stores).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote
from typing import Any

import pandas as pd

from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.storage.atomic_files import sha256_file, write_json, write_parquet

PROMOTED = "_promoted"
POINTER = "CURRENT.json"
PROMOTE_LOCK = ".promote.lock"


def _open_root(data_dir: str | Path) -> tuple[Any, Any]:
    """(root, fsspec filesystem or None). A local path or a `file://` URL is the local filesystem (temp
    file + rename: atomic); any other fsspec URL (`memory://`, `s3://`, ...) goes through
    universal_pathlib, one whole-object write per table."""
    text = str(data_dir)
    if "://" not in text:
        return Path(data_dir), None
    from upath import UPath

    root = UPath(text)
    if root.protocol in ("file", "local"):
        return Path(unquote(root.path)), None  # file:// URLs are percent-encoded
    return root, root.fs


def json_bytes(obj: Any) -> bytes:
    from genebench_assets.science.storage.atomic_files import _json_default

    return json.dumps(obj, indent=1, sort_keys=True, default=_json_default).encode()


class TableNotFoundError(FileNotFoundError):
    pass


class PromotionError(RuntimeError):
    """A snapshot could not be promoted or read back intact (a file changed under us)."""


@dataclasses.dataclass(frozen=True)
class PromotedVersion:
    """One promoted snapshot of a study: file name -> sha256, and why it was promoted."""

    tissue: str
    mission: str
    version: str
    files: dict[str, str]
    promoted_at: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class TableStore:
    def __init__(self, data_dir: str | Path, *, protocol: str | None = None,
                 protocol_assets: Iterable[str] = ()):
        if protocol is not None and protocol not in PROTOCOLS:
            raise ValueError(f"protocol: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        self.data_dir, self.fs = _open_root(data_dir)
        self.root = self.data_dir / "tables"
        self.protocol = protocol
        self.protocol_assets = frozenset(protocol_assets)

    def path(self, asset: str, *parts: str, ext: str = "parquet") -> Path:
        base = self.root
        if asset in self.protocol_assets:
            if self.protocol is None:
                raise ValueError(f"{asset}: its tables depend on the protocol; open the store with "
                                 f"protocol= one of {', '.join(PROTOCOLS)}")
            base = base / self.protocol
        if not parts:
            return base / asset / f"{asset}.{ext}"
        return base.joinpath(asset, *parts[:-1]) / f"{parts[-1]}.{ext}"

    def write_frame(self, df: pd.DataFrame, asset: str, *parts: str) -> tuple[Path, str]:
        from genebench_assets.science.contracts import check_contract  # issue 14: nothing off-contract is written

        check_contract(asset, df, self.path(asset, *parts))
        if self.fs is not None:
            return self._put(self.path(asset, *parts), df.to_parquet())
        target = write_parquet(df, self.path(asset, *parts))
        return target, sha256_file(target)

    def write_json(self, obj: Any, asset: str, *parts: str) -> tuple[Path, str]:
        if self.fs is not None:
            return self._put(self.path(asset, *parts, ext="json"), json_bytes(obj))
        target = write_json(obj, self.path(asset, *parts, ext="json"))
        return target, sha256_file(target)

    def _put(self, target, data: bytes) -> tuple[Any, str]:
        """fsspec URL: one write of the whole object. Object stores (s3, gcs, memory) make an object
        visible only once complete, so a reader never sees half of it; filesystems without that
        guarantee (e.g. sftp) are not atomic here (docs/ARCHITECTURE.md)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            f.write(data)
        return target, hashlib.sha256(data).hexdigest()

    def _read_bytes(self, p) -> bytes:
        with p.open("rb") as f:
            return f.read()

    def read_frame(self, asset: str, *parts: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The stored table; with `columns`, only those columns (and the index): parquet reads a
        column subset without decoding the rest, which matters for wide tables."""
        p = self.path(asset, *parts)
        if not p.exists():
            raise TableNotFoundError(f"{asset} {'/'.join(parts)}: not materialized yet (no {p})")
        if self.fs is not None:
            return pd.read_parquet(io.BytesIO(self._read_bytes(p)), columns=columns)
        return pd.read_parquet(p, columns=columns)

    def read_json(self, asset: str, *parts: str) -> Any:
        p = self.path(asset, *parts, ext="json")
        if not p.exists():
            raise TableNotFoundError(f"{asset} {'/'.join(parts)}: not materialized yet (no {p})")
        return json.loads(self._read_bytes(p))

    def exists(self, asset: str, *parts: str, ext: str = "parquet") -> bool:
        return self.path(asset, *parts, ext=ext).exists()

    def sha256(self, asset: str, *parts: str, ext: str = "parquet") -> str:
        return self._sha256(self.path(asset, *parts, ext=ext))

    def _sha256(self, p) -> str:
        return hashlib.sha256(self._read_bytes(p)).hexdigest() if self.fs is not None else sha256_file(p)

    # ---------------------------------------------------------------- promotion of study partitions

    def _study_dir(self, tissue: str, mission: str) -> Path:
        return self.root / PROMOTED / tissue / mission

    def promoted(self, tissue: str, mission: str) -> PromotedVersion | None:
        """The study's promoted version, or None if none was ever promoted."""
        pointer = self._study_dir(tissue, mission) / POINTER
        if not pointer.exists():
            return None
        return PromotedVersion(**json.loads(self._read_bytes(pointer)))

    def promote(self, tissue: str, mission: str, expected: Mapping[tuple[str, str], str],
                evidence: Mapping[str, Any]) -> PromotedVersion:
        """Snapshot the working copies `expected` ({(asset, ext): sha256 the checks passed on}) and
        move the pointer to it. A working copy whose sha256 is no longer the expected one (rewritten
        since it was checked) is refused. Promoting the current version again is a no-op."""
        # One promoter of a study at a time (lomo_folds and transfer_pair_folds of a tissue may promote at
        # once, from two processes): the second then finds the version already promoted.
        with self._promote_lock(tissue, mission):
            return self._promote_locked(tissue, mission, expected, evidence)

    @contextlib.contextmanager
    def _promote_lock(self, tissue: str, mission: str):
        if self.fs is not None:  # object stores: no lock; each step below is verified and idempotent
            yield
            return
        study_dir = self._study_dir(tissue, mission)
        study_dir.mkdir(parents=True, exist_ok=True)
        with open(study_dir / PROMOTE_LOCK, "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes, or the process dies
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _promote_locked(self, tissue: str, mission: str, expected: Mapping[tuple[str, str], str],
                        evidence: Mapping[str, Any]) -> PromotedVersion:
        files = {f"{asset}.{ext}": sha for (asset, ext), sha in sorted(expected.items())}
        version = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        current = self.promoted(tissue, mission)
        if current is not None and current.version == version:
            return current
        study_dir = self._study_dir(tissue, mission)
        final = study_dir / version
        if self.fs is not None:
            # No directory rename on object stores: copy, verify, and only then move the pointer, so a
            # reader (who follows the pointer) never sees a partial snapshot.
            for (asset, ext), sha in expected.items():
                copy = final / f"{asset}.{ext}"
                if not copy.exists() or self._sha256(copy) != sha:
                    self._put(copy, self._read_bytes(self.path(asset, tissue, mission, ext=ext)))
                if self._sha256(copy) != sha:
                    raise PromotionError(
                        f"{asset} ({tissue}, {mission}): working copy changed since its checks ran "
                        f"(expected sha256 {sha[:16]}); re-materialize the study")
        elif not final.exists():
            study_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", suffix=".tmp", dir=study_dir))
            try:
                for (asset, ext), sha in expected.items():
                    copy = tmp / f"{asset}.{ext}"
                    shutil.copyfile(self.path(asset, tissue, mission, ext=ext), copy)
                    if sha256_file(copy) != sha:
                        raise PromotionError(
                            f"{asset} ({tissue}, {mission}): working copy changed since its checks ran "
                            f"(expected sha256 {sha[:16]}); re-materialize the study")
                tmp.chmod(0o755)
                try:
                    os.replace(tmp, final)  # a whole snapshot appears at once, or none
                except OSError:
                    # Another writer (without the lock: another store object on a shared disk) put the same
                    # version in place first: the same content by construction (version = hash of sha256s).
                    if not final.is_dir() or not all((final / name).is_file() and sha256_file(final / name) == sha
                                                     for name, sha in files.items()):
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        promoted = PromotedVersion(tissue, mission, version, files,
                                   _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                                   dict(evidence))
        if self.fs is not None:
            self._put(study_dir / POINTER, json_bytes(promoted.to_dict()))
        else:
            write_json(promoted.to_dict(), study_dir / POINTER)  # the pointer moves atomically
        self._prune(study_dir, keep={version, *([current.version] if current else [])})
        return promoted

    def _prune(self, study_dir: Path, keep: set[str]) -> None:
        # Keep the previous snapshot too: a reader that resolved the old pointer may still be reading it.
        # Only finished snapshots (named by their 16-hex version) are pruned, never another promoter's
        # temp folder (".<version>.*.tmp").
        for d in study_dir.iterdir():
            if d.is_dir() and d.name not in keep and not d.name.startswith("."):
                if self.fs is not None:
                    self.fs.rm(d.path, recursive=True)
                else:
                    shutil.rmtree(d, ignore_errors=True)

    def _promoted_file(self, version: PromotedVersion, asset: str, ext: str) -> Path:
        name = f"{asset}.{ext}"
        if name not in version.files:
            raise TableNotFoundError(f"{asset} ({version.tissue}, {version.mission}): not in promoted "
                                     f"version {version.version}")
        path = self._study_dir(version.tissue, version.mission) / version.version / name
        if not path.exists():
            raise PromotionError(f"{path}: promoted file missing (pruned while reading?); re-run the tissue")
        return path

    def read_promoted_frame(self, version: PromotedVersion, asset: str) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self._read_bytes(self._promoted_file(version, asset, "parquet"))))

    def read_promoted_json(self, version: PromotedVersion, asset: str) -> Any:
        return json.loads(self._read_bytes(self._promoted_file(version, asset, "json")))
