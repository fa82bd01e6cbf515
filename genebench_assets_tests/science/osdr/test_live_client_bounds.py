"""Bounds of the live OSDR client (issue 25, weak cases): a listing declaring 10^9 pages is refused in
one line after one request; no download keeps more than `max_download_bytes`, whether or not the
listing gives a `file_size`; a signed URL's query string appears in no log line, error or provenance.
Offline: the fake OSDR of test_live_client (httpx.MockTransport)."""

from __future__ import annotations

import copy
import logging

import httpx
import pytest

from genebench_assets.science.osdr.live_client import OsdrClient, redact_url
from genebench_assets.science.osdr.source_files import DownloadError, StudyDataError
from genebench_assets_tests.science.osdr.test_live_client import (BASE, COUNTS_NAME, STORE, FakeOsdr, cache_contents,
                                                                  entry_of)

SECRET = "s3cr3t-signature"


@pytest.fixture
def server() -> FakeOsdr:
    return FakeOsdr()


@pytest.fixture
def make_client(tmp_path, server):
    clients = []

    def make(**kw) -> OsdrClient:
        client = OsdrClient(tmp_path / "cache", base_url=BASE, transport=httpx.MockTransport(server),
                            sleep=lambda s: None, **kw)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def test_a_listing_declaring_a_billion_pages_is_refused_after_one_request(make_client, server):
    page = copy.deepcopy(server.listing)
    page["page_total"] = 10**9
    server.faults["listing"] = [httpx.Response(200, json=page)]
    with pytest.raises(StudyDataError) as info:
        make_client().list_files([48])
    message = str(info.value)
    assert "OSD-48" in message and "page_total" in message and str(10**9) in message and "\n" not in message
    assert server.count("listing") == 1


def test_a_listing_within_the_page_bound_is_paged_through(make_client, server):
    pages = []
    for n in (1, 2, 3):
        page = copy.deepcopy(server.listing)
        page.update(page_total=3, page_number=n)
        pages.append(httpx.Response(200, json=page))
    server.faults["listing"] = pages
    assert "OSD-48" in make_client(max_listing_pages=3).list_files([48])
    assert server.count("listing") == 3


def test_a_listing_without_file_size_cannot_bring_an_unbounded_body(tmp_path, make_client, server):
    entry = {k: v for k, v in entry_of(server, COUNTS_NAME).items() if k != "file_size"}
    server.contents[COUNTS_NAME] = b"x" * 5000
    with pytest.raises(DownloadError) as info:
        make_client(max_download_bytes=4096).download("OSD-48", entry)
    message = str(info.value)
    assert "OSD-48" in message and COUNTS_NAME in message and "4096" in message and "\n" not in message
    assert cache_contents(tmp_path) == []  # nothing kept, not even a temp file


def test_a_body_within_the_maximum_is_downloaded(make_client, server):
    entry = {k: v for k, v in entry_of(server, COUNTS_NAME).items() if k != "file_size"}
    server.contents[COUNTS_NAME] = b"x" * 4096
    assert make_client(max_download_bytes=4096).download("OSD-48", entry).size == 4096


def test_a_listed_size_above_the_maximum_is_refused_before_any_request(tmp_path, make_client, server):
    with pytest.raises(DownloadError) as info:
        make_client(max_download_bytes=1000).download("OSD-48", entry_of(server, COUNTS_NAME))
    assert "file_size" in str(info.value) and COUNTS_NAME in str(info.value)
    assert server.count("download") == 0 and server.count("object") == 0 and cache_contents(tmp_path) == []


def test_an_announced_content_length_above_the_maximum_is_not_read(tmp_path, make_client, server):
    entry = {k: v for k, v in entry_of(server, COUNTS_NAME).items() if k != "file_size"}
    server.faults["object"] = [httpx.Response(200, content=b"y" * 3000)]  # httpx sets Content-Length: 3000
    with pytest.raises(DownloadError) as info:
        make_client(max_download_bytes=2048).download("OSD-48", entry)
    assert "Content-Length" in str(info.value) and "3000" in str(info.value)
    assert cache_contents(tmp_path) == []


def _signed_entry(server: FakeOsdr) -> dict:
    # An absolute, signed remote_url (tolerated by the client): its query string is a credential.
    return dict(entry_of(server, COUNTS_NAME),
                remote_url=f"https://{STORE}/genelab/OSD-48/{COUNTS_NAME}?sig={SECRET}&se=2030-01-01")


def test_signed_urls_are_redacted_in_logs_errors_and_provenance(make_client, server, caplog):
    caplog.set_level(logging.DEBUG, logger="genebench.osdr")
    entry = _signed_entry(server)
    # two 503s (retried: each logged), then a 403 (the error)
    server.faults["object"] = [httpx.Response(503), httpx.Response(503), httpx.Response(403)]
    with pytest.raises(DownloadError) as info:
        make_client(max_attempts=5).download("OSD-48", entry)
    assert SECRET not in str(info.value)
    assert f"https://{STORE}/genelab/OSD-48/{COUNTS_NAME}?sig=REDACTED" in str(info.value)
    assert "403" in str(info.value)
    # a successful download: its log lines and its recorded origin
    done = make_client().download("OSD-48", entry)
    assert SECRET not in done.origin and "sig=REDACTED" in done.origin
    lines = [r.getMessage() for r in caplog.records]
    assert any("retrying" in ln for ln in lines) and any("downloading" in ln for ln in lines)
    assert not [ln for ln in lines if SECRET in ln]


def test_redact_url_keeps_osdr_api_parameters():
    assert redact_url(f"{BASE}/osdr/data/osd/files/48?page=2") == f"{BASE}/osdr/data/osd/files/48?page=2"
    assert redact_url("https://h/p?file=a.csv&X-Amz-Signature=abc&token=t") == \
        "https://h/p?file=a.csv&X-Amz-Signature=REDACTED&token=REDACTED"
    assert redact_url("https://h/p") == "https://h/p"
