"""`genebench report --out DIR` (issue 20): DIR/index.html opened from disk in headless chromium (no
server), screenshot taken, the planted user record's model listed in a leaderboard."""

from pathlib import Path

import pytest

from genebench_assets.cli import main
from genebench_assets.science.results.record import write_record
from genebench_assets_tests.science.results.record_factory import make_record

pytestmark = [pytest.mark.browser]


def test_report_opens_offline_and_lists_the_user_model(chromium_browser, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(tmp_path / "data"))
    write_record(tmp_path / "data", make_record("planted_user_model", task="A2", mean=0.93))
    write_record(tmp_path / "data", make_record("planted_user_model", task="A2", mean=0.91, protocol="seed"))
    assert main(["report", "--out", str(tmp_path / "site")]) == 0
    index = tmp_path / "site" / "index.html"
    assert index.is_file() and f"wrote {index}" in capsys.readouterr().out
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True)
    try:
        page = context.new_page()
        page.goto(index.as_uri())
        board = page.locator("#lb-genelab-A2 + table")
        assert board.get_by_role("cell", name="planted_user_model", exact=True).count() == 2
        assert page.locator("img[alt='leaderboard genelab A2']").evaluate("i => i.naturalWidth") > 0
        assert page.locator("img[alt='ROC genelab A2']").evaluate("i => i.naturalWidth") > 0
        page.locator("#lb-genelab-A2").scroll_into_view_if_needed()
        shot = Path(tmp_path / "report.png")
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        assert "+0.0200" in page.locator("#audit + table").inner_text()   # strict 0.93 vs seed 0.91
    finally:
        context.close()
