"""The live OSDR client, offline: the real httpx.Client driven by httpx.MockTransport with responses
in the real OSDR shapes (recorded/ and ../shared/data/osdr_api). Sleeps are injected, never waited."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from genebench_assets.science.osdr.live_client import OsdrClient, parse_retry_after
from genebench_assets.science.osdr.source_files import (
    COUNTS,
    NORMALIZED_COUNTS,
    RUNSHEET,
    SAMPLE_TABLE,
    DownloadError,
    MissingStudyFilesError,
    StudyDataError,
)
from genebench_assets.science.osdr.study_catalog import Study
from genebench_assets_tests.conftest import shared_path

RECORDED = Path(__file__).with_name("recorded")
BASE = "https://osdr.nasa.gov"
STORE = "objects.example"  # stands in for the signed object-store host of the 302
LISTING_URL = f"{BASE}/osdr/data/osd/files/48"
COUNTS_NAME = "GLDS-48_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv"
RUNSHEET_NAME = "GLDS-48_bulkRNASeq_v1_runsheet.csv"
OSD48 = Study(osd="OSD-48", glds_prefix="GLDS-48", tissue="liver", mission="RR-1", expected_flight=7, expected_ground=7)

Fault = Callable[[httpx.Request], httpx.Response]


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


def body(name: str, size: int) -> bytes:
    """Deterministic content of exactly `size` bytes for a listed file."""
    seed = hashlib.sha256(name.encode()).hexdigest().encode()
    return (seed * (size // len(seed) + 1))[:size]


class FakeOsdr:
    """OSDR as a MockTransport handler: listing, 302 download redirect, object store.

    `faults[route]` is a list of responses/handlers served (one per request) before normal service;
    routes: "listing", "meta", "search", "download" (the OSDR 302), "object" (the signed store URL).
    """

    def __init__(self, listing: dict | None = None, contents: dict[str, bytes] | None = None):
        self.listing = listing if listing is not None else recorded("osd_files_listing_OSD-48.json")
        self.contents = dict(contents or {})
        for study in self.listing.get("studies", {}).values():
            for f in study["study_files"]:
                self.contents.setdefault(f["file_name"], body(f["file_name"], f["file_size"]))
        self.faults: dict[str, list[httpx.Response | Fault]] = {}
        self.requests: list[tuple[str, httpx.Request]] = []
        self.meta: dict = {"success": True, "study": {"OSD-48": {"studies": [{"title": "RR-1 liver"}]}}}
        self.search_pages: list[dict] = []

    def route(self, request: httpx.Request) -> str:
        path = request.url.path
        if request.url.host == STORE:
            return "object"
        if path.startswith("/osdr/data/osd/files/"):
            return "listing"
        if path.startswith("/osdr/data/osd/meta/"):
            return "meta"
        if path == "/osdr/data/search":
            return "search"
        if path.startswith("/geode-py/ws/studies/") and path.endswith("/download"):
            return "download"
        return "unknown"

    def count(self, route: str) -> int:
        return sum(1 for r, _ in self.requests if r == route)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        route = self.route(request)
        self.requests.append((route, request))
        queued = self.faults.get(route)
        if queued:
            fault = queued.pop(0)
            return fault(request) if callable(fault) else fault
        if route == "listing":
            return httpx.Response(200, json=self.listing)
        if route == "meta":
            return httpx.Response(200, json=self.meta)
        if route == "search":
            return httpx.Response(200, json=self.search_pages.pop(0))
        if route == "download":
            osd = request.url.path.split("/")[-2]
            name = request.url.params["file"]
            return httpx.Response(302, headers={"Location": f"https://{STORE}/genelab/{osd}/{name}?X-Amz-Signature=s3cr3t"})
        if route == "object":
            name = request.url.path.rsplit("/", 1)[1]
            if name not in self.contents:
                return httpx.Response(404, text="NoSuchKey")
            return httpx.Response(200, content=self.contents[name])
        return httpx.Response(404)


@pytest.fixture
def server() -> FakeOsdr:
    return FakeOsdr()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(tmp_path, server, sleeps):
    clients = []

    def make(**kw) -> OsdrClient:
        kw.setdefault("max_attempts", 5)
        client = OsdrClient(tmp_path / "cache", base_url=BASE, transport=httpx.MockTransport(server),
                            sleep=sleeps.append, **kw)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def entry_of(server: FakeOsdr, name: str) -> dict:
    return next(f for f in server.listing["studies"]["OSD-48"]["study_files"] if f["file_name"] == name)


def cache_contents(tmp_path: Path) -> list[str]:
    """Everything under the cache, hidden temp files included."""
    root = tmp_path / "cache"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_names(exc: BaseException, *parts: str) -> None:
    msg = str(exc)
    for part in parts:
        assert part in msg, f"{part!r} not in error message {msg!r}"


# ----------------------------------------------------------------------------------- listings
def test_list_files_parses_recorded_listing(make_client, server):
    listing = make_client().list_files([48])
    assert list(listing) == ["OSD-48"]
    names = [f["file_name"] for f in listing["OSD-48"]]
    assert COUNTS_NAME in names and RUNSHEET_NAME in names and len(names) == 6
    assert str(server.requests[0][1].url) == LISTING_URL


def test_list_files_real_osd87_listing_is_parsed_but_has_no_rnaseq_files(tmp_path):
    real = json.loads(shared_path("osdr_api", "osd_files_listing_OSD-87.json").read_text())
    server = FakeOsdr(listing=real)
    with OsdrClient(tmp_path / "cache", transport=httpx.MockTransport(server), sleep=lambda s: None) as client:
        listing = client.list_files([87])
        assert [f["file_name"] for f in listing["OSD-87"]][1] == "GLDS-87_microarray_14R_(Mouse430_2).CEL.gz"
        study = Study(osd="OSD-87", glds_prefix="GLDS-87", tissue="liver", mission="STS-135",
                      expected_flight=0, expected_ground=0)
        with pytest.raises(MissingStudyFilesError) as info:
            client.fetch_study(study)
    assert_names(info.value, "OSD-87", f"{BASE}/osdr/data/osd/files/87", "counts", "GLDS-87_microarray")
    assert server.count("download") == 0 and cache_contents(tmp_path) == []


def test_list_files_several_studies_and_pages(make_client, server):
    page1 = copy.deepcopy(server.listing)
    page1.update(page_total=2, hits=2, total_hits=2)
    page2 = copy.deepcopy(page1)
    page2["page_number"] = 2
    page2["studies"] = {"OSD-137": {"file_count": 1, "study_files": [
        dict(entry_of(server, COUNTS_NAME), file_name="GLDS-137_rna_seq_RSEM_Unnormalized_Counts_GLbulkRNAseq.csv")]}}
    server.faults["listing"] = [httpx.Response(200, json=page1), httpx.Response(200, json=page2)]
    listing = make_client().list_files([48, 137, 48])
    assert sorted(listing) == ["OSD-137", "OSD-48"]
    urls = [str(r.url) for route, r in server.requests if route == "listing"]
    assert urls == [f"{BASE}/osdr/data/osd/files/48,137", f"{BASE}/osdr/data/osd/files/48,137?page=2"]


def test_malformed_json_listing(make_client, server):
    server.faults["listing"] = [httpx.Response(200, text="<html>Service Unavailable</html>")]
    with pytest.raises(StudyDataError) as info:
        make_client().list_files([48])
    assert_names(info.value, "OSD-48", LISTING_URL, "not valid JSON", "<html>")


def test_listing_success_false(make_client, server):
    server.faults["listing"] = [httpx.Response(200, json={"success": False, "message": "invalid input 'abc'"})]
    with pytest.raises(StudyDataError) as info:
        make_client().list_files([48])
    assert info.value.field == "success"
    assert_names(info.value, "OSD-48", LISTING_URL, "success", "invalid input")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda p: p.update(studies=[]), "studies"),
        (lambda p: p["studies"]["OSD-48"].pop("study_files"), "studies.OSD-48.study_files"),
        (lambda p: p["studies"]["OSD-48"]["study_files"][2].pop("file_name"), "studies.OSD-48.study_files[2].file_name"),
        (lambda p: p["studies"].update({"GLDS-48": {"study_files": []}}), "studies"),
    ],
)
def test_malformed_listing_shape_names_url_and_field(make_client, server, mutate, field):
    payload = copy.deepcopy(server.listing)
    mutate(payload)
    server.faults["listing"] = [httpx.Response(200, json=payload)]
    with pytest.raises(StudyDataError) as info:
        make_client().list_files([48])
    assert info.value.field == field
    assert_names(info.value, "OSD-48", LISTING_URL, repr(field))


def test_listing_without_the_study(make_client, server):
    server.listing["studies"] = {}
    with pytest.raises(MissingStudyFilesError) as info:
        make_client().fetch_study(OSD48)
    assert_names(info.value, "OSD-48", LISTING_URL, "no entry")


def test_listing_without_the_expected_files(tmp_path, make_client, server):
    files = server.listing["studies"]["OSD-48"]["study_files"]
    files[:] = [f for f in files if "Unnormalized_Counts" not in f["file_name"]]
    with pytest.raises(MissingStudyFilesError) as info:
        make_client().fetch_study(OSD48)
    assert_names(info.value, "OSD-48", LISTING_URL, COUNTS_NAME, RUNSHEET_NAME)
    assert server.count("download") == 0 and cache_contents(tmp_path) == []


# ----------------------------------------------------------------------------------- downloads
def test_fetch_study_downloads_the_selected_files_through_the_redirect(tmp_path, make_client, server):
    files = make_client().fetch_study(OSD48)
    assert {f.kind: f.file_name for f in files} == {
        COUNTS: COUNTS_NAME,
        NORMALIZED_COUNTS: "GLDS-48_rna_seq_Normalized_Counts_GLbulkRNAseq.csv",
        SAMPLE_TABLE: "GLDS-48_rna_seq_SampleTable_GLbulkRNAseq.csv",
        RUNSHEET: RUNSHEET_NAME,
    }
    for f in files:
        data = server.contents[f.file_name]
        assert f.path == (tmp_path / "cache" / "OSD-48" / f.file_name).resolve()
        assert f.path.read_bytes() == data
        assert f.size == len(data) == entry_of(server, f.file_name)["file_size"]
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        assert f.origin == BASE + entry_of(server, f.file_name)["remote_url"]
        assert "Signature" not in f.origin  # the signed URL is not kept
        assert f.source_mode == "osdr" and f.osd == "OSD-48"
        assert datetime.fromisoformat(f.fetched_at).tzinfo is not None
        assert f.provenance()["path"] == str(f.path)
    assert server.count("download") == 4 and server.count("object") == 4  # each 302 was followed
    # ... and each file's sha256 is recorded in sha256sum format (`sha256sum -c` checks it)
    assert cache_contents(tmp_path) == sorted([f"OSD-48/{f.file_name}" for f in files] + ["OSD-48/SHA256SUMS"])
    manifest = (tmp_path / "cache" / "OSD-48" / "SHA256SUMS").read_text().splitlines()
    assert sorted(manifest) == sorted(f"{f.sha256}  {f.file_name}" for f in files)


def test_real_runsheet_bytes_survive_the_download(tmp_path):
    real = shared_path("osdr_api", RUNSHEET_NAME).read_bytes()
    server = FakeOsdr(contents={RUNSHEET_NAME: real})
    with OsdrClient(tmp_path / "c", transport=httpx.MockTransport(server), sleep=lambda s: None) as client:
        sf = client.download("OSD-48", entry_of(server, RUNSHEET_NAME))
    assert sf.kind == RUNSHEET and sf.path.read_bytes() == real and sf.sha256 == hashlib.sha256(real).hexdigest()


def test_cached_file_of_the_right_size_is_reused_without_a_request(make_client, server):
    client = make_client()
    first = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    n = len(server.requests)
    again = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    assert len(server.requests) == n  # no request at all
    assert (again.path, again.size, again.sha256, again.kind) == (first.path, first.size, first.sha256, COUNTS)


def test_cached_file_of_the_wrong_size_is_downloaded_again(make_client, server):
    client = make_client()
    sf = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    sf.path.write_bytes(b"stale")
    again = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    assert again.path.read_bytes() == server.contents[COUNTS_NAME]
    assert server.count("object") == 2


def test_timeout_then_success(make_client, server, sleeps):
    def timeout(request):
        raise httpx.ReadTimeout("timed out", request=request)

    server.faults["object"] = [timeout]
    sf = make_client(backoff_base=2.0).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert sf.path.read_bytes() == server.contents[COUNTS_NAME]
    assert sleeps == [2.0]


def test_connect_error_on_the_listing_then_success(make_client, server, sleeps):
    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    server.faults["listing"] = [refused, refused]
    assert "OSD-48" in make_client().list_files([48])
    assert sleeps == [1.0, 2.0]  # exponential backoff


def test_429_with_retry_after_then_success(make_client, server, sleeps):
    server.faults["download"] = [httpx.Response(429, headers={"Retry-After": "7"})]
    sf = make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert sf.size == entry_of(server, COUNTS_NAME)["file_size"]
    assert sleeps == [7.0]


def test_5xx_then_success(make_client, server, sleeps):
    server.faults["object"] = [httpx.Response(503, text="Slow Down")]
    sf = make_client(backoff_base=0.5).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert sf.path.exists()
    assert sleeps == [0.5]


def test_5xx_until_attempts_are_exhausted(tmp_path, make_client, server, sleeps):
    server.faults["object"] = [lambda r: httpx.Response(502)] * 3
    url = BASE + entry_of(server, COUNTS_NAME)["remote_url"]
    with pytest.raises(DownloadError) as info:
        make_client(max_attempts=3).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, url, "HTTP 502", "3 attempt")
    assert info.value.value == 502
    assert sleeps == [1.0, 2.0] and server.count("object") == 3
    assert cache_contents(tmp_path) == []


def test_404_fails_at_once(tmp_path, make_client, server, sleeps):
    server.faults["download"] = [httpx.Response(404, text="not found")]
    url = BASE + entry_of(server, COUNTS_NAME)["remote_url"]
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, url, "404", "not retried")
    assert server.count("download") == 1 and sleeps == []
    assert cache_contents(tmp_path) == []


def test_403_from_the_object_store_names_the_host_but_not_the_signature(make_client, server):
    server.faults["object"] = [httpx.Response(403)]
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, "403", f"redirect to https://{STORE}/genelab/OSD-48/{COUNTS_NAME}")
    assert "s3cr3t" not in str(info.value)


def test_listing_404_fails_at_once(make_client, server, sleeps):
    server.faults["listing"] = [httpx.Response(404)]
    with pytest.raises(DownloadError) as info:
        make_client().list_files([48])
    assert_names(info.value, "OSD-48", LISTING_URL, "404")
    assert sleeps == []


def test_truncated_body_is_an_error_and_leaves_nothing(tmp_path, make_client, server, sleeps):
    short = server.contents[COUNTS_NAME][:100]
    server.faults["object"] = [lambda r: httpx.Response(200, content=short)] * 2
    url = BASE + entry_of(server, COUNTS_NAME)["remote_url"]
    with pytest.raises(DownloadError) as info:
        make_client(max_attempts=2).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, url, "truncated", "got 100 of 2048 bytes")
    assert cache_contents(tmp_path) == []


class DroppingStream(httpx.SyncByteStream):
    """A body that breaks off after `cut` bytes, as when the connection drops mid-stream."""

    def __init__(self, data: bytes, cut: int):
        self.data, self.cut = data, cut

    def __iter__(self):
        yield self.data[: self.cut]
        raise httpx.ReadError("connection reset by peer")


def test_connection_dropped_mid_stream_leaves_nothing(tmp_path, make_client, server):
    data = server.contents[COUNTS_NAME]
    server.faults["object"] = [lambda r: httpx.Response(200, stream=DroppingStream(data, 1000))] * 2
    with pytest.raises(DownloadError) as info:
        make_client(max_attempts=2).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, "ReadError after 1000 bytes")
    assert cache_contents(tmp_path) == []


def test_connection_dropped_then_complete_download_is_whole(make_client, server, sleeps):
    data = server.contents[COUNTS_NAME]
    server.faults["object"] = [httpx.Response(200, stream=DroppingStream(data, 1500))]
    sf = make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert sf.path.read_bytes() == data  # the retry did not append to the broken attempt
    assert sf.sha256 == hashlib.sha256(data).hexdigest() and sleeps == [1.0]


def test_body_larger_than_listed_is_an_error(tmp_path, make_client, server):
    server.faults["object"] = [httpx.Response(200, content=server.contents[COUNTS_NAME] + b"extra")]
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, "size mismatch", "2053")
    assert server.count("object") == 1 and cache_contents(tmp_path) == []


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", "sub/dir.csv", "a\x00b"])
def test_listing_file_name_escaping_the_cache_is_refused(tmp_path, make_client, server, name):
    entry = dict(entry_of(server, COUNTS_NAME), file_name=name)
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry)
    assert_names(info.value, "OSD-48", "file name", repr(name))
    assert server.requests == [] and cache_contents(tmp_path) == []
    assert not (tmp_path / "etc").exists()


def test_symlinked_cache_entry_pointing_outside_is_refused(tmp_path, make_client, server):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret")
    folder = tmp_path / "cache" / "OSD-48"
    folder.mkdir(parents=True)
    (folder / COUNTS_NAME).symlink_to(outside)
    with pytest.raises(DownloadError, match="outside the cache"):
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert outside.read_text() == "secret" and server.requests == []


@pytest.mark.parametrize(
    "change, field",
    [({"remote_url": None}, "remote_url"), ({"remote_url": "ftp://x/y"}, "remote_url"), ({"file_size": "2048"}, "file_size")],
)
def test_bad_listing_entry_fields_are_refused(make_client, server, change, field):
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", dict(entry_of(server, COUNTS_NAME), **change))
    assert info.value.field == field
    assert_names(info.value, "OSD-48", COUNTS_NAME)


def test_fetch_study_error_from_one_file_names_study_file_and_url(tmp_path, make_client, server):
    server.contents.pop(RUNSHEET_NAME)  # the object store answers 404 for this one
    with pytest.raises(DownloadError) as info:
        make_client().fetch_study(OSD48)
    assert_names(info.value, "OSD-48", RUNSHEET_NAME, BASE + entry_of(server, RUNSHEET_NAME)["remote_url"], "404")
    assert not any(RUNSHEET_NAME in p for p in cache_contents(tmp_path))


# ----------------------------------------------------------------------------------- metadata and search
def test_study_metadata(make_client, server):
    assert make_client().study_metadata(48)["study"]["OSD-48"]["studies"][0]["title"] == "RR-1 liver"
    assert server.requests[0][1].url == httpx.URL(f"{BASE}/osdr/data/osd/meta/48")
    server.faults["meta"] = [httpx.Response(200, json={"success": False, "message": "no such study"})]
    with pytest.raises(StudyDataError) as info:
        make_client().study_metadata(48)
    assert_names(info.value, "OSD-48", f"{BASE}/osdr/data/osd/meta/48", "no such study")


def test_search_studies_pages_and_returns_sources(make_client, server):
    page = recorded("osdr_search_mouse_rnaseq.json")
    first, second = copy.deepcopy(page), copy.deepcopy(page)
    first["hits"]["hits"] = page["hits"]["hits"][:2]
    second["hits"]["hits"] = page["hits"]["hits"][2:]
    server.search_pages = [first, second]
    records = make_client().search_studies(page_size=2)
    assert [r["Accession"] for r in records] == ["OSD-48", "OSD-137", "OSD-999"]
    requests = [r for route, r in server.requests if route == "search"]
    assert len(requests) == 2
    params = requests[0].url.params
    assert params.get_list("ffield") == ["organism", "Study Assay Technology Type"]
    assert params.get_list("fvalue") == ["Mus musculus", "RNA Sequencing (RNA-Seq)"]
    assert (params["type"], params["from"], params["size"]) == ("cgene", "0", "2")
    assert requests[1].url.params["from"] == "2"


def test_search_studies_custom_params_and_total_as_object(make_client, server):
    page = recorded("osdr_search_mouse_rnaseq.json")
    page["hits"]["total"] = {"value": 3, "relation": "eq"}
    server.search_pages = [page]
    records = make_client().search_studies({"type": "cgene", "ffield": ["Material Type"], "fvalue": ["Liver"], "size": 9})
    assert len(records) == 3
    params = server.requests[0][1].url.params
    assert params["ffield"] == "Material Type" and params["size"] == "100"  # paging is ours


def test_malformed_search_response(make_client, server):
    server.faults["search"] = [httpx.Response(200, json={"hits": []})]
    with pytest.raises(StudyDataError) as info:
        make_client().search_studies()
    assert_names(info.value, "OSDR search", f"{BASE}/osdr/data/search?", "hits.hits")


# ----------------------------------------------------------------------------------- helpers
def test_parse_retry_after():
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("nan") is None


def test_retry_after_is_capped(make_client, server, sleeps):
    server.faults["listing"] = [httpx.Response(429, headers={"Retry-After": "86400"})]
    make_client(max_retry_after=30.0).list_files([48])
    assert sleeps == [30.0]


# ------------------------------------------------------------ integrity (issue 10, items 6 and 8)
def test_cached_file_corrupted_in_place_same_size_is_downloaded_again(make_client, server):
    client = make_client()
    sf = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    data = sf.path.read_bytes()
    sf.path.write_bytes(data[:500] + bytes([data[500] ^ 0xFF]) + data[501:])  # one byte flipped, same size
    again = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    assert again.path.read_bytes() == data and again.sha256 == sf.sha256
    assert server.count("object") == 2


def test_cached_file_without_a_recorded_sha256_is_not_trusted(tmp_path, make_client, server):
    client = make_client()
    sf = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    (tmp_path / "cache" / "OSD-48" / "SHA256SUMS").unlink()
    client.download("OSD-48", entry_of(server, COUNTS_NAME))
    assert server.count("object") == 2 and sf.sha256 in (tmp_path / "cache" / "OSD-48" / "SHA256SUMS").read_text()


def test_a_new_download_differing_from_the_recorded_sha256_fails_clearly(tmp_path, make_client, server):
    client = make_client()
    sf = client.download("OSD-48", entry_of(server, COUNTS_NAME))
    original = sf.path.read_bytes()
    sf.path.write_bytes(b"x" * len(original))                            # damaged cache ...
    server.contents[COUNTS_NAME] = b"y" * len(original)                  # ... and the upstream file changed
    with pytest.raises(DownloadError) as info:
        client.download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "OSD-48", COUNTS_NAME, "SHA256SUMS", f"recorded {sf.sha256}",
                 hashlib.sha256(b"y" * len(original)).hexdigest())
    # The differing download is not renamed into place; the manifest keeps the first sha256.
    assert sf.path.read_bytes() == b"x" * len(original)
    assert f"{sf.sha256}  {COUNTS_NAME}" in (tmp_path / "cache" / "OSD-48" / "SHA256SUMS").read_text()


def test_listing_size_larger_than_the_complete_file_is_not_retried(tmp_path, make_client, server, sleeps):
    short = server.contents[COUNTS_NAME][:100]
    server.faults["object"] = [lambda r: httpx.Response(200, content=short)] * 5  # Content-Length: 100
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "got 100 of 2048 bytes", "Content-Length 100", "not retried")
    assert server.count("object") == 1 and sleeps == [] and cache_contents(tmp_path) == []


def test_retry_after_beyond_the_total_wait_cap_gives_up_at_once(make_client, server, sleeps):
    server.faults["download"] = [httpx.Response(429, headers={"Retry-After": "86400"})]
    with pytest.raises(DownloadError) as info:
        make_client().download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "gave up after 1 attempt(s)", "HTTP 429", "asked to wait 86400 s (Retry-After)",
                 "total wait cap of 120 s", "GENEBENCH_OSDR_MAX_WAIT")
    assert sleeps == []


def test_total_wait_cap_counts_every_wait(make_client, server, sleeps):
    server.faults["object"] = [lambda r: httpx.Response(503)] * 5
    with pytest.raises(DownloadError) as info:
        make_client(max_total_wait=2.5).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert_names(info.value, "gave up after 2 attempt(s)", "HTTP 503", "the next backoff is 2 s",
                 "total wait cap of 2.5 s (waited 1 s")
    assert sleeps == [1.0] and server.count("object") == 2


# ------------------------------------ real GeneLab file shapes and names through the live client (issue 19, item 6)
from genebench_assets.science.osdr.parsing import assemble_study  # noqa: E402
from genebench_assets_tests.science.osdr import genelab_shapes as shapes  # noqa: E402

VARIANTS = [("RSEM", v, s) for v, s in sorted(shapes.RSEM_SUFFIXES.items())] + \
           [("STAR", v, s) for v, s in sorted(shapes.STAR_SUFFIXES.items())]
OSD48_12 = Study(osd="OSD-48", glds_prefix="GLDS-48", tissue="liver", mission="RR-1", expected_flight=6, expected_ground=6)


def real_shaped_server(counts_name: str, *, cut: bool = False, crlf: bool = True) -> tuple[FakeOsdr, int]:
    """OSDR serving OSD-48 as an older study: the recorded listing with its counts entry renamed,
    counts with CRLF, no final newline and fractions; listed sizes are the served files' sizes."""
    samples, groups = shapes.rr1_samples()
    values = shapes.counts_values(samples, n_genes=60)
    data = shapes.counts_bytes(samples, values, crlf=crlf, final_newline=False)
    contents = {counts_name: shapes.cut_mid_line(data) if cut else data,
                RUNSHEET_NAME: shapes.runsheet_bytes(samples, groups, crlf=crlf)}
    listing = recorded("osd_files_listing_OSD-48.json")
    study_files = listing["studies"]["OSD-48"]["study_files"]
    template = next(f for f in study_files if f["file_name"] == COUNTS_NAME)
    kept = [f for f in study_files if f["file_name"] in (RUNSHEET_NAME, "GLDS-48_metadata_RR1-NASA-ISA.zip")]
    counts_entry = dict(template, file_name=counts_name,
                        remote_url=template["remote_url"].replace(COUNTS_NAME, counts_name))
    study_files[:] = [counts_entry, *kept]
    for f in study_files:
        if f["file_name"] in contents:
            f["file_size"] = len(contents[f["file_name"]])
    return FakeOsdr(listing=listing, contents=contents), int((values % 1 != 0).sum())


def live_client(tmp_path, server: FakeOsdr, **kw) -> OsdrClient:
    return OsdrClient(tmp_path / "cache", base_url=BASE, transport=httpx.MockTransport(server), sleep=lambda s: None, **kw)


@pytest.mark.parametrize("quantifier, variant, suffix", VARIANTS, ids=[v for _, v, _ in VARIANTS])
def test_each_counts_name_variant_is_downloaded_parsed_and_its_quantifier_recorded(tmp_path, quantifier, variant, suffix):
    name = "GLDS-48" + suffix
    server, n_fractional = real_shaped_server(name)
    with live_client(tmp_path, server, quantifier=quantifier) as client:
        files = client.fetch_study(OSD48_12)
    assert {f.kind: f.file_name for f in files} == {COUNTS: name, RUNSHEET: RUNSHEET_NAME}
    counts_file = next(f for f in files if f.kind == COUNTS)
    assert counts_file.provenance()["quantifier"] == quantifier and counts_file.size == len(server.contents[name])
    counts, meta = assemble_study(OSD48_12, files)
    assert counts.shape == (60, 12) and (meta["label"] == 0).sum() == 6
    report = counts.attrs["parse_report"]
    assert report["n_rounded"] == n_fractional > 0 and report["quantifier"] == quantifier
    assert report["line_endings"] == "CRLF" and report["final_newline"] is False


def test_a_listing_with_only_star_counts_says_so_and_downloads_nothing(tmp_path):
    name = "GLDS-48" + shapes.STAR_SUFFIXES["STAR"]
    server, _ = real_shaped_server(name)
    with live_client(tmp_path, server) as client, pytest.raises(MissingStudyFilesError) as info:
        client.fetch_study(OSD48_12)
    msg = str(info.value)
    assert "\n" not in msg and f"the OSDR file listing {LISTING_URL} has only STAR counts ({name})" in msg
    assert "GENEBENCH_QUANTIFIER=STAR" in msg and server.count("download") == 0


@pytest.mark.parametrize("crlf", [True, False], ids=["CRLF", "LF"])
def test_a_counts_file_cut_mid_line_on_the_server_is_refused_naming_the_file(tmp_path, crlf):
    """The listing's size is the cut file's (the file itself is damaged upstream): the download is
    complete by size, so the parser refuses it by the last line's field count."""
    name = "GLDS-48_rna_seq_Unnormalized_Counts.csv"
    server, _ = real_shaped_server(name, cut=True, crlf=crlf)
    with live_client(tmp_path, server) as client:
        files = client.fetch_study(OSD48_12)
    with pytest.raises(StudyDataError) as info:
        assemble_study(OSD48_12, files)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"OSD-48: {name}: truncated: the last line (line 61)")


def test_a_download_shorter_than_the_listing_size_is_refused_naming_the_file(tmp_path):
    name = "GLDS-48_rna_seq_Unnormalized_Counts.csv"
    server, _ = real_shaped_server(name)
    short = shapes.cut_mid_line(server.contents[name])
    server.faults["object"] = [lambda r: httpx.Response(200, content=short)]  # complete by Content-Length
    with live_client(tmp_path, server) as client, pytest.raises(DownloadError) as info:
        client.fetch_study(OSD48_12)
    assert_names(info.value, "OSD-48", name, "truncated download", f"got {len(short)} of {len(server.contents[name])} bytes")
    assert "\n" not in str(info.value) and cache_contents(tmp_path) == []
