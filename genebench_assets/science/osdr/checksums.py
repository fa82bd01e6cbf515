"""sha256 manifests in `sha256sum` format (`<64 hex>  <file name>` per line), for the download cache
and for mirrors (issue 10, item 6).

- The live client records every downloaded file's sha256 in `<cache>/OSD-N/SHA256SUMS` and verifies
  it on every reuse of the cache; a mirror may carry `SHA256SUMS` or `sha256sum.txt` in a study
  folder, verified when present. Either file can be checked by hand with `sha256sum -c SHA256SUMS`.
- A malformed manifest line is an error naming the manifest and the line.
"""

from __future__ import annotations

import re
from pathlib import Path

from genebench_assets.science.inputs.guarded_files import LIMITS, InputFileError, read_text
from genebench_assets.science.osdr.source_files import StudyDataError
from genebench_assets.science.storage.atomic_files import write_text

CACHE_MANIFEST = "SHA256SUMS"
MIRROR_MANIFESTS = ("SHA256SUMS", "sha256sum.txt")
_LINE = re.compile(r"(?P<sha>[0-9a-fA-F]{64}) [ *](?P<name>.+)")


def read_manifest(path: str | Path, *, osd: str) -> dict[str, tuple[str, int]]:
    """{file name: (sha256 lowercase, line number)}; blank lines and `#` comments are skipped."""
    path = Path(path)
    out: dict[str, tuple[str, int]] = {}
    try:
        text = read_text(path, max_bytes=LIMITS["manifest"])
    except InputFileError as exc:
        raise StudyDataError(osd, path.name, f"checksum manifest {exc}", field=exc.field) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.fullmatch(line.rstrip("\r"))
        if not m:
            raise StudyDataError(osd, path.name, f"checksum manifest {path} line {number} is not "
                                 "'<64 hex sha256>  <file name>'", field=f"line {number}", value=line[:100])
        name = m["name"].removeprefix("./")
        if name in out and out[name][0] != m["sha"].lower():
            raise StudyDataError(osd, path.name, f"checksum manifest {path} lists {name!r} twice with different "
                                 f"sha256 (lines {out[name][1]} and {number})", field=f"line {number}", value=name)
        out[name] = (m["sha"].lower(), number)
    return out


def write_manifest(path: str | Path, entries: dict[str, str]) -> Path:
    """Write {file name: sha256} atomically, sorted by name, in `sha256sum` format."""
    return write_text("".join(f"{sha}  {name}\n" for name, sha in sorted(entries.items())), path)


def find_mirror_manifest(folder: str | Path) -> Path | None:
    for name in MIRROR_MANIFESTS:
        candidate = Path(folder) / name
        if candidate.exists() or candidate.is_symlink():  # a FIFO or directory is refused when read
            return candidate
    return None


def verify_against_manifest(osd: str, manifest: Path, actual: dict[str, str]) -> None:
    """Each of `actual` ({file name: sha256 computed now}) must be listed in `manifest` with that
    sha256; else an error naming the file, the manifest line and both digests."""
    from genebench_assets.science.osdr.source_files import DownloadError

    listed = read_manifest(manifest, osd=osd)
    for name, sha in actual.items():
        if name not in listed:
            raise DownloadError(osd, name, f"the study's checksum manifest {manifest} has no line for this file; "
                                "a manifest must cover every file used", field="manifest", value=str(manifest))
        want, line = listed[name]
        if sha != want:
            raise DownloadError(osd, name, f"sha256 mismatch: the file has {sha}, {manifest.name} line {line} "
                                f"says {want} (the file was changed or damaged after the manifest was made)",
                                field="sha256", value=sha)
