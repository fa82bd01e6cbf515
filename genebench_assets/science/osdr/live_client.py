"""Live NASA OSDR access (SPEC §3): file listings, study metadata, search, and cached downloads.

Endpoints (relative to `base_url`, default https://osdr.nasa.gov):
- file listing   GET /osdr/data/osd/files/{N,M,...}   -> {"success": true, "studies": {"OSD-N": {"study_files": [...]}}, "page_number", "page_total", ...}
- study metadata GET /osdr/data/osd/meta/{N}
- search         GET /osdr/data/search?type=cgene&ffield=...&fvalue=...&from=0&size=100
                 -> Elasticsearch-style {"hits": {"total": n, "hits": [{"_id", "_source": {"Accession": "OSD-48", ...}}]}}
- download       base_url + remote_url (a 302 to a signed object-store URL; redirects are followed)

Robustness, because OSDR is a public service under load and files are large:
- every request is retried with exponential backoff (tenacity) on timeouts, connection errors,
  429 (waiting `Retry-After` seconds when given) and 5xx, at most `max_attempts` times; any other
  4xx fails at once, since asking again cannot help;
- downloads stream to a temp file in the cache folder, are checked against the listing's
  `file_size` and hashed (sha256) while streaming, then atomically renamed into
  `cache_dir/OSD-N/<file_name>`; a truncated or failed download leaves nothing behind;
- a cached file of the listed size is reused without any request only when its sha256 matches the one
  recorded at download in `cache_dir/OSD-N/SHA256SUMS` (else it is downloaded again, and a new
  download that differs from the recorded sha256 fails);
- a body shorter than listed but complete by its Content-Length is not retried (it cannot change);
  all waits of one request are capped in total (`max_total_wait`, default 120 s);
- file names from the listing are never trusted as paths (`is_safe_file_name` + resolved-path check).

Errors are `DownloadError` (transport / HTTP / size problems) or `StudyDataError` (malformed
responses), and name the study, the file and the URL.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import tenacity

from genebench_assets.science.storage.atomic_files import atomic_path, sha256_file
from genebench_assets.science.osdr.checksums import CACHE_MANIFEST, read_manifest, write_manifest
from genebench_assets.science.osdr.genelab_files import (
    DEFAULT_QUANTIFIER,
    check_quantifier,
    counts_quantifier,
    file_kind,
    is_safe_file_name,
    select_study_files,
)
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    DownloadError,
    MissingStudyFilesError,
    SourceFile,
    StudyDataError,
)
from genebench_assets.science.osdr.study_catalog import Study

log = logging.getLogger("genebench.osdr")

FILES_PATH = "/osdr/data/osd/files/{ids}"
META_PATH = "/osdr/data/osd/meta/{n}"
SEARCH_PATH = "/osdr/data/search"
USER_AGENT = "genebench (NASA OSDR spaceflight transcriptomics benchmark)"
SOURCE_MODE = "osdr"

# Default search: mouse bulk RNA-seq studies of OSDR's own (GeneLab, "cgene") data source.
# Repeated ffield/fvalue pairs are AND-ed filters; any other OSDR search parameter (term, sort, ...)
# can be passed to `search_studies`.
DEFAULT_SEARCH_PARAMS: tuple[tuple[str, str], ...] = (
    ("type", "cgene"),
    ("ffield", "organism"),
    ("fvalue", "Mus musculus"),
    ("ffield", "Study Assay Technology Type"),
    ("fvalue", "RNA Sequencing (RNA-Seq)"),
)

_OSD_RE = re.compile(r"^OSD-\d+$")
# A file listing of a few studies fits in a few pages; a larger page_total is refused in one line
# rather than paged through (page_total 10**9 would otherwise mean a thousand requests or more).
MAX_LISTING_PAGES = 100
# Largest body one download may have (GENEBENCH_OSDR_MAX_DOWNLOAD): GeneLab counts and sample tables
# are far smaller; it bounds a listing without file_size, or a server sending an endless body.
DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024**3
# Query parameters of OSDR's own API that are shown in logs and errors; any other value in a URL's
# query string (a signed object-store URL's sig=, X-Amz-Signature=, token=, ...) is shown as REDACTED.
_SHOWN_QUERY_PARAMS = frozenset({"page", "type", "ffield", "fvalue", "from", "size", "term", "sort", "order",
                                 "source", "file"})
_URL_IN_TEXT = re.compile(r"https?://[^\s'\"<>]+")
# Network trouble that a later attempt may not meet: retried.
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class _Transient(Exception):
    """One attempt failed in a way worth retrying (timeout, dropped connection, 429, 5xx, truncation)."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.status, self.retry_after = reason, status, retry_after


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def redact_url(url: Any) -> str:
    """`url` as logs and errors show it: the value of every query parameter that is not one of OSDR's
    own API parameters replaced by REDACTED (signed URLs carry credentials in their query string)."""
    text = str(url)
    base, sep, query = text.partition("?")
    if not sep:
        return text
    query, hash_sep, _fragment = query.partition("#")
    parts = []
    for item in query.split("&"):
        key, eq, _value = item.partition("=")
        parts.append(item if not eq or key in _SHOWN_QUERY_PARAMS else f"{key}=REDACTED")
    return f"{base}?{'&'.join(parts)}" + ("#REDACTED" if hash_sep else "")


def redact_urls_in(text: Any) -> str:
    """Every URL in `text` (an exception's message, a log line) through `redact_url`."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), str(text))


class _RedactUrls(logging.Filter):
    """Query strings redacted in every record of this module's logger (its arguments are URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_urls_in(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


log.addFilter(_RedactUrls())


def _utc_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc).isoformat(timespec="seconds")


def _snippet(text: str, n: int = 120) -> str:
    text = text.strip().replace("\n", " ")
    return text if len(text) <= n else text[:n] + "..."


class OsdrClient:
    """Client for the live OSDR API with retries and an on-disk download cache.

    `transport` lets tests drive the real httpx.Client with httpx.MockTransport; `sleep` lets them
    observe backoff waits without waiting. Use as a context manager (or call `close`) to release
    connections.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        base_url: str = "https://osdr.nasa.gov",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_backoff: float = 60.0,
        max_retry_after: float = 600.0,
        max_total_wait: float = 120.0,
        quantifier: str = DEFAULT_QUANTIFIER,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        max_listing_pages: int = MAX_LISTING_PAGES,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if isinstance(max_download_bytes, bool) or not isinstance(max_download_bytes, int) or max_download_bytes < 1:
            raise ValueError(f"max_download_bytes must be a positive whole number, got {max_download_bytes!r}")
        self.max_download_bytes = max_download_bytes  # no body larger than this is kept, listed size or not
        self.max_listing_pages = max_listing_pages
        self.cache_dir = Path(cache_dir)
        self.quantifier = check_quantifier(quantifier)  # whose counts fetch_study selects (SPEC §3)
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after  # a server asking for hours would stall a run silently
        # All waits of one request together (Retry-After and backoff): past this, give up and say so.
        self.max_total_wait = max_total_wait
        self._sleep = sleep
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,  # downloads answer 302 -> signed object-store URL
            headers={"User-Agent": USER_AGENT},
        )

    # ------------------------------------------------------------------------- lifecycle
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "OsdrClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- public API
    def list_files(self, osd_numbers: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
        """File listing of one or more studies: {"OSD-N": [study_files entries]} (all pages).

        Studies OSDR does not return are absent from the result (logged); `fetch_study` turns that
        into a MissingStudyFilesError.
        """
        numbers = list(dict.fromkeys(int(n) for n in osd_numbers))
        if not numbers:
            return {}
        label = ", ".join(f"OSD-{n}" for n in numbers)
        url = self.base_url + FILES_PATH.format(ids=",".join(str(n) for n in numbers))
        studies: dict[str, list[dict[str, Any]]] = {}
        page = 1
        while True:
            page_url = url if page == 1 else str(httpx.URL(url, params={"page": page}))
            payload = self._get_json(page_url, osd=label, what="file listing")
            page_studies, page_total = _parse_listing(payload, url=page_url, osd=label)
            if page_total > self.max_listing_pages:
                raise StudyDataError(label, "file listing", f"response from {redact_url(page_url)} declares "
                                     f"{page_total} pages, more than the {self.max_listing_pages} a listing may have; "
                                     "refusing to page through it", field="page_total", value=page_total)
            studies.update(page_studies)
            if page >= page_total:
                break
            page += 1
        absent = [f"OSD-{n}" for n in numbers if f"OSD-{n}" not in studies]
        if absent:
            log.warning("OSDR file listing %s has no entry for %s", url, ", ".join(absent))
        log.info("OSDR listing %s: %s", url, ", ".join(f"{k} {len(v)} files" for k, v in studies.items()) or "nothing")
        return studies

    def study_metadata(self, n: int) -> dict[str, Any]:
        """Study metadata JSON (ISA investigation, assays, factors) as OSDR returns it."""
        osd = f"OSD-{int(n)}"
        url = self.base_url + META_PATH.format(n=int(n))
        payload = self._get_json(url, osd=osd, what="study metadata")
        if not isinstance(payload, dict):
            raise StudyDataError(osd, "study metadata", f"response from {url} is not a JSON object",
                                 field="<root>", value=type(payload).__name__)
        if payload.get("success") is False:
            raise StudyDataError(osd, "study metadata", f"OSDR answered success=false for {url}{_message_of(payload)}",
                                 field="success", value=False)
        return payload

    def search_studies(
        self,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        page_size: int = 100,
        max_results: int = 5000,
    ) -> list[dict[str, Any]]:
        """Search OSDR datasets; return each hit's `_source` record (keys like "Accession", "organism").

        `params` are OSDR search parameters (default `DEFAULT_SEARCH_PARAMS`: mouse RNA-seq of the
        GeneLab data source). Give repeated filters as pairs, e.g.
        `[("type", "cgene"), ("ffield", "Material Type"), ("fvalue", "Liver")]`, or a mapping whose
        values may be lists. Paging (`from` / `size`) is handled here.
        """
        pairs = _as_pairs(DEFAULT_SEARCH_PARAMS if params is None else params)
        pairs = [(k, v) for k, v in pairs if k not in ("from", "size")]
        records: list[dict[str, Any]] = []
        start = 0
        while len(records) < max_results:
            url = str(httpx.URL(self.base_url + SEARCH_PATH, params=pairs + [("from", start), ("size", page_size)]))
            hits, total = _parse_search(self._get_json(url, osd="OSDR search", what="search"), url=url)
            records.extend(hits)
            start += len(hits)
            if not hits or (total is not None and start >= total) or (total is None and len(hits) < page_size):
                break
        log.info("OSDR search %s: %d record(s)", pairs, min(len(records), max_results))
        return records[:max_results]

    def download(self, osd: str, entry: Mapping[str, Any], *, kind: str | None = None) -> SourceFile:
        """Download one listing entry into `cache_dir/OSD-N/<file_name>` (or reuse it) and describe it."""
        if not isinstance(osd, str) or not _OSD_RE.match(osd):
            raise DownloadError(str(osd), None, "study accession must look like 'OSD-48'", field="osd", value=osd)
        name = entry.get("file_name")
        target = self._cache_target(osd, name)
        url = self._download_url(osd, name, entry.get("remote_url"))
        shown = redact_url(url)  # what logs, errors and provenance show (signed URLs carry credentials)
        expected = entry.get("file_size")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
            raise DownloadError(osd, name, f"listing entry for {shown} has an invalid size", field="file_size", value=expected)
        if expected is not None and expected > self.max_download_bytes:
            raise DownloadError(osd, name, f"listing entry for {shown} is larger than the maximum download size "
                                f"({self.max_download_bytes} bytes; raise it with GENEBENCH_OSDR_MAX_DOWNLOAD)",
                                field="file_size", value=expected)
        kind = kind or file_kind(name) or "other"
        quantifier = counts_quantifier(name) if kind == COUNTS else None  # recorded with the file
        manifest_path = target.parent / CACHE_MANIFEST
        recorded = self._recorded(osd, manifest_path).get(name)

        if expected is not None and target.is_file() and target.stat().st_size == expected:
            # Same name and size as listed: reuse only if its sha256 is the one recorded at download.
            actual = sha256_file(target)
            if recorded is not None and actual == recorded:
                log.info("%s: %s reused from cache (%d bytes, sha256 verified)", osd, name, expected)
                return SourceFile(osd=osd, file_name=name, kind=kind, path=target, origin=shown, size=expected,
                                  sha256=actual, source_mode=SOURCE_MODE, fetched_at=_utc_iso(target.stat().st_mtime),
                                  quantifier=quantifier)
            log.warning("%s: cached %s %s; downloading it again", osd, name,
                        f"has sha256 {actual[:12]}, {manifest_path} recorded {recorded[:12]}" if recorded
                        else f"has no sha256 in {manifest_path}")
        if expected is None:
            log.warning("%s: %s has no file_size in the listing; it cannot be size-checked or reused", osd, name)

        log.info("%s: downloading %s (%s bytes) from %s", osd, name, expected if expected is not None else "?", shown)
        started = time.monotonic()
        with atomic_path(target) as tmp:  # renamed into place only if no exception escapes
            size, digest = self._call(lambda: self._stream_once(tmp, url, osd, name, expected),
                                      osd=osd, file_name=name, url=shown)
            if recorded is not None and digest != recorded:
                # The file once downloaded differs from today's: changed upstream or damaged on the way.
                raise DownloadError(osd, name, f"downloaded again from {shown}: sha256 {digest}, but {manifest_path} "
                                    f"recorded {recorded} at its first download (the file changed upstream or "
                                    "is damaged); remove its line from the manifest to accept the new file",
                                    field="sha256", value=digest)
        self._record(osd, manifest_path, name, digest)
        elapsed = time.monotonic() - started
        log.info("%s: %s done, %d bytes in %.1fs, sha256 %s", osd, name, size, elapsed, digest[:12])
        return SourceFile(osd=osd, file_name=name, kind=kind, path=target, origin=shown, size=size,
                          sha256=digest, source_mode=SOURCE_MODE, fetched_at=_utc_iso(), quantifier=quantifier)

    @staticmethod
    def _recorded(osd: str, manifest_path: Path) -> dict[str, str]:
        if not manifest_path.is_file():
            return {}
        return {name: sha for name, (sha, _) in read_manifest(manifest_path, osd=osd).items()}

    def _record(self, osd: str, manifest_path: Path, name: str, digest: str) -> None:
        """Add / update one file's sha256 in the study's cache manifest (sha256sum format)."""
        entries = self._recorded(osd, manifest_path)
        if entries.get(name) != digest:
            entries[name] = digest
            write_manifest(manifest_path, entries)

    def fetch_study(self, study: Study) -> list[SourceFile]:
        """Listing -> GeneLab file selection (SPEC §3) -> download of the selected files."""
        listing = self.list_files([study.osd_number])
        url = self.base_url + FILES_PATH.format(ids=study.osd_number)
        if study.osd not in listing:
            raise MissingStudyFilesError(study.osd, None, f"the OSDR file listing {url} has no entry for this study",
                                         field="studies", value=study.osd)
        by_name: dict[str, dict[str, Any]] = {}
        for entry in listing[study.osd]:
            by_name.setdefault(entry["file_name"], entry)  # the first entry of a duplicated name wins
        chosen = select_study_files(study.osd, study.glds_prefix, list(by_name), where=f"the OSDR file listing {url}",
                                    quantifier=self.quantifier)
        return [self.download(study.osd, by_name[name], kind=kind) for kind, name in chosen.items()]

    # ------------------------------------------------------------------------- cache paths
    def _cache_target(self, osd: str, name: Any) -> Path:
        if not isinstance(name, str) or not is_safe_file_name(name):
            raise DownloadError(osd, str(name), "refusing a listing file name that is not a plain file name "
                                "(it could escape the download cache)", field="file_name", value=name)
        folder = (self.cache_dir / osd).resolve()
        target = folder / name
        # Belt and braces: after resolving symlinks the file must still sit directly in its study folder.
        if target.resolve().parent != folder:
            raise DownloadError(osd, name, f"refusing a file name that resolves outside the cache folder {folder}",
                                field="file_name", value=name)
        return target

    def _download_url(self, osd: str, name: str, remote_url: Any) -> str:
        if isinstance(remote_url, str) and remote_url.startswith("/"):
            return self.base_url + remote_url
        if isinstance(remote_url, str) and remote_url.startswith(("https://", "http://")):
            return remote_url  # tolerated: an absolute URL is used as given
        raise DownloadError(osd, name, "listing entry has no usable remote_url", field="remote_url", value=remote_url)

    # ------------------------------------------------------------------------- HTTP core
    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        """Retry-After when the server sent one, else exponential backoff (base, 2*base, 4*base, ...)."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        return min(self.backoff_base * 2 ** (retry_state.attempt_number - 1), self.max_backoff)

    def _call(self, attempt: Callable[[], Any], *, osd: str, file_name: str | None, url: str) -> Any:
        """Run `attempt` with retries; a transient failure that outlives the attempts becomes a DownloadError."""

        def before_sleep(rs: tenacity.RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome else None
            log.warning("%s: %s: attempt %d/%d for %s failed (%s); retrying in %.1fs", osd, file_name,
                        rs.attempt_number, self.max_attempts, url, getattr(exc, "reason", exc),
                        rs.next_action.sleep if rs.next_action else 0.0)

        waited, over_cap = [0.0], []

        def stop(rs: tenacity.RetryCallState) -> bool:
            if rs.attempt_number >= self.max_attempts:
                return True
            upcoming = self._wait(rs)
            if waited[0] + upcoming > self.max_total_wait:
                over_cap.append((rs.attempt_number, upcoming))
                return True
            waited[0] += upcoming
            return False

        retrying = tenacity.Retrying(
            stop=stop,
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Transient),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            kw = {"field": "status", "value": exc.status} if exc.status is not None else {}
            if over_cap:
                n, upcoming = over_cap[0]
                asked = f"the server asked to wait {exc.retry_after:.0f} s (Retry-After)" if exc.retry_after is not None \
                    else f"the next backoff is {upcoming:.0f} s"
                raise DownloadError(osd, file_name, f"GET {url} gave up after {n} attempt(s): {exc.reason}; {asked}, "
                                    f"beyond the total wait cap of {self.max_total_wait:g} s "
                                    f"(waited {waited[0]:.0f} s; raise it with GENEBENCH_OSDR_MAX_WAIT)", **kw) from exc
            raise DownloadError(osd, file_name, f"GET {url} failed after {self.max_attempts} attempt(s): {exc.reason}",
                                **kw) from exc

    def _check_status(self, resp: httpx.Response, *, osd: str, file_name: str | None, url: str) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        what = f"HTTP {status} {resp.reason_phrase}".rstrip()
        if status == 429:
            raise _Transient(what, status, parse_retry_after(resp.headers.get("Retry-After")))
        if status >= 500:
            raise _Transient(what, status)
        # Name where a redirect led, without its query (signed URLs carry credentials).
        final = resp.url
        via = f" (after redirect to {final.scheme}://{final.host}{final.path})" if resp.history else ""
        raise DownloadError(osd, file_name, f"{what} for GET {url}{via}; not retried", field="status", value=status)

    def _get_json(self, url: str, *, osd: str, what: str) -> Any:
        shown = redact_url(url)

        def attempt() -> httpx.Response:
            try:
                resp = self._http.get(url)
            except _TRANSIENT_ERRORS as exc:
                raise _Transient(f"{type(exc).__name__}: {redact_urls_in(exc)}") from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise DownloadError(osd, what, f"GET {shown} failed: {type(exc).__name__}: {redact_urls_in(exc)}") from exc
            self._check_status(resp, osd=osd, file_name=what, url=shown)
            return resp

        resp = self._call(attempt, osd=osd, file_name=what, url=shown)
        try:
            return resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StudyDataError(osd, what, f"response from {shown} is not valid JSON: {_snippet(resp.text)!r}",
                                 field="<body>") from exc

    def _stream_once(self, tmp: Path, url: str, osd: str, name: str, expected: int | None) -> tuple[int, str]:
        """One download attempt into `tmp` (truncated first); returns (bytes, sha256). No more than
        `max_download_bytes` are read, whatever the listing and Content-Length say."""
        digest, n, declared = hashlib.sha256(), 0, None
        shown, limit = redact_url(url), self.max_download_bytes
        too_big = (f"larger than the maximum download size ({limit} bytes; raise it with "
                   "GENEBENCH_OSDR_MAX_DOWNLOAD)")
        try:
            with self._http.stream("GET", url) as resp:
                self._check_status(resp, osd=osd, file_name=name, url=shown)
                declared = resp.headers.get("Content-Length")
                if declared is not None and declared.strip().isdigit() and int(declared) > limit:
                    raise DownloadError(osd, name, f"GET {shown} announces {int(declared)} bytes (Content-Length), "
                                        f"{too_big}; not downloaded", field="Content-Length", value=int(declared))
                with open(tmp, "wb") as out:
                    for chunk in resp.iter_bytes():  # chunks as they arrive: bounded memory
                        if n + len(chunk) > limit:
                            raise DownloadError(osd, name, f"GET {shown}: the body is {too_big}; stopped after "
                                                f"{n} bytes", field="size", value=f"> {limit}")
                        out.write(chunk)
                        digest.update(chunk)
                        n += len(chunk)
        except _TRANSIENT_ERRORS as exc:
            raise _Transient(f"{type(exc).__name__} after {n} bytes: {redact_urls_in(exc)}") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DownloadError(osd, name, f"GET {shown} failed: {type(exc).__name__}: {redact_urls_in(exc)}") from exc
        if expected is not None and n < expected:
            if declared is not None and declared.strip().isdigit() and int(declared) == n:
                # The server sent the whole body it announced: the file is smaller than the listing says,
                # and asking again returns the same bytes. Deterministic: not retried.
                raise DownloadError(osd, name, f"truncated download: got {n} of {expected} bytes from GET {shown}, "
                                    f"all the server announced (Content-Length {n}): the file is smaller than "
                                    "the listing says; not retried", field="file_size", value=expected)
            # A short body is what a dropped connection looks like without Content-Length: retry it.
            raise _Transient(f"truncated download: got {n} of {expected} bytes")
        if expected is not None and n > expected:
            raise DownloadError(osd, name, f"size mismatch for GET {shown}: got {n} bytes, the listing says {expected}",
                                field="file_size", value=expected)
        return n, digest.hexdigest()


# ----------------------------------------------------------------------------- response shapes
def _message_of(payload: dict[str, Any]) -> str:
    for key in ("message", "error", "errors"):
        if payload.get(key):
            return f": {_snippet(str(payload[key]))}"
    return ""


def _parse_listing(payload: Any, *, url: str, osd: str) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Validate a file-listing response; return ({"OSD-N": study_files}, page_total)."""
    what = "file listing"
    if not isinstance(payload, dict):
        raise StudyDataError(osd, what, f"response from {url} is not a JSON object", field="<root>",
                             value=type(payload).__name__)
    if payload.get("success") is not True:
        raise StudyDataError(osd, what, f"OSDR did not answer success=true for {url}{_message_of(payload)}",
                             field="success", value=payload.get("success"))
    studies = payload.get("studies")
    if not isinstance(studies, dict):
        raise StudyDataError(osd, what, f"response from {url} has no 'studies' object", field="studies",
                             value=type(studies).__name__)
    out: dict[str, list[dict[str, Any]]] = {}
    for key, study in studies.items():
        if not _OSD_RE.match(str(key)):
            raise StudyDataError(osd, what, f"response from {url} has a study key that is not an OSD accession",
                                 field="studies", value=key)
        files = study.get("study_files") if isinstance(study, dict) else None
        if not isinstance(files, list):
            raise StudyDataError(osd, what, f"response from {url} has no 'study_files' list for {key}",
                                 field=f"studies.{key}.study_files", value=type(files).__name__)
        for i, entry in enumerate(files):
            # file_name is needed to choose files; remote_url / file_size are checked when downloading.
            if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
                raise StudyDataError(osd, what, f"response from {url} has an entry without a file name",
                                     field=f"studies.{key}.study_files[{i}].file_name",
                                     value=entry.get("file_name") if isinstance(entry, dict) else entry)
        out[key] = files
    page_total = payload.get("page_total", 1)
    if isinstance(page_total, bool) or not isinstance(page_total, int):
        raise StudyDataError(osd, what, f"response from {url} has a non-integer page count", field="page_total",
                             value=page_total)
    return out, max(page_total, 1)


def _parse_search(payload: Any, *, url: str) -> tuple[list[dict[str, Any]], int | None]:
    """Validate an Elasticsearch-style search response; return (hit _source records, total or None)."""
    osd, what = "OSDR search", "search"
    hits = payload.get("hits") if isinstance(payload, dict) else None
    if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
        raise StudyDataError(osd, what, f"response from {url} has no 'hits.hits' list", field="hits.hits")
    records = []
    for i, hit in enumerate(hits["hits"]):
        source = hit.get("_source") if isinstance(hit, dict) else None
        if not isinstance(source, dict):
            raise StudyDataError(osd, what, f"response from {url} has a hit without a '_source' object",
                                 field=f"hits.hits[{i}]._source")
        records.append(source)
    total = hits.get("total")
    if isinstance(total, dict):  # Elasticsearch 7+: {"value": n, "relation": "eq"}
        total = total.get("value")
    return records, total if isinstance(total, int) and not isinstance(total, bool) else None


def _as_pairs(params: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, Any]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((key, v) for v in value)
        else:
            pairs.append((key, value))
    return pairs
