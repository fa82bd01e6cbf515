"""Issue 5, "The UI, for real" (browser half): headless Debian chromium, driven by Playwright's sync
API, opens the real Dagster UI served by the session's webserver: the global asset lineage, the
partition matrix of `raw_counts`, and the evaluation of one tissue with its lineage metadata. It
asserts the expected asset names and partition keys are on screen and saves screenshots under the
test's tmp dir (paths printed; run with -s to see them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genebench_assets_tests.e2e.conftest import ABSENT_MISSION, REAL_MISSIONS, STUDY_ASSETS, TISSUE, TISSUE_ASSETS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UI_TIMEOUT_MS = 45_000


def _expect():
    from playwright.sync_api import expect

    return expect


def _shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"\n[e2e] screenshot: {path}", flush=True)
    return path


def _visible_text(page, text: str, *, exact: bool = True):
    """The first *visible* element showing `text` (the UI repeats names in hidden tooltips/headers)."""
    return page.get_by_text(text, exact=exact).locator("visible=true").first


def _settle(page, timeout_ms: int = 15_000) -> None:
    """Give the page up to `timeout_ms` to finish its "Loading…" placeholders (not an assertion)."""
    waited = 0
    while waited < timeout_ms and page.get_by_text(re.compile(r"^Loading(…|\.\.\.)$")).count() > 0:
        page.wait_for_timeout(250)
        waited += 250
    page.wait_for_timeout(500)


def _leaf_texts(page) -> list[str]:
    """Text of every visible leaf element (what is actually drawn, e.g. the asset graph's node labels)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
              .filter(e => e.children.length === 0 && e.offsetParent !== null && e.getClientRects().length > 0)
              .map(e => (e.textContent || '').trim()).filter(t => t.length > 0)"""
    )


def _shown(name: str, texts: list[str]) -> bool:
    """`name` is drawn, in full or middle-truncated the way the zoomed-out graph draws long names
    ("normal…_expression")."""
    for t in texts:
        if t == name:
            return True
        if "…" in t:
            head, _, tail = t.partition("…")
            if head and tail and name.startswith(head) and name.endswith(tail) and len(head) + len(tail) < len(name):
                return True
    return False


def test_asset_graph_shows_the_assets(page, dagster_e2e, catalog_materialized, tmp_path):
    expect = _expect()
    names = ["osdr_catalog", *STUDY_ASSETS, *TISSUE_ASSETS]
    # The whole graph (GeneLab categories, SpaceOmicsBench, LLM track) no longer fits one readable
    # screen: show the benchmark path, as a user does with the lineage view's selection box.
    page.goto(f"{dagster_e2e.url}/asset-groups", wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_text("Global asset lineage").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.locator(".CodeMirror").first.click()  # the selection box is a CodeMirror editor
    page.keyboard.type(" or ".join(f'key:"{n}"' for n in names))
    page.keyboard.press("Enter")
    # With several asset groups the global lineage starts with every group collapsed: expand them all
    # from the graph's settings menu, as a user would.
    expect(_visible_text(page, "sources")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.get_by_role("button", name="settings", exact=True).click()
    page.get_by_role("menuitem", name="Expand all groups").click()
    page.keyboard.press("Escape")
    deadline_ms, texts = UI_TIMEOUT_MS, []
    while deadline_ms > 0:
        texts = _leaf_texts(page)
        if all(_shown(n, texts) for n in names):
            break
        page.wait_for_timeout(500)
        deadline_ms -= 500
    page.wait_for_timeout(1000)
    _shot(page, tmp_path, "asset_lineage")
    missing = [n for n in names if not _shown(n, texts)]
    assert not missing, f"asset names not drawn in the global lineage: {missing}\n(drawn: {sorted(set(texts))[:80]})"

    page.goto(f"{dagster_e2e.url}/assets", wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
    # The catalog lists ~50 assets in a virtualized list: filter it as a user would.
    page.locator(".CodeMirror").first.click()
    page.keyboard.type('key:"osdr_catalog" or key:"raw_counts" or key:"evaluation_summary"')
    page.keyboard.press("Enter")
    for n in ("osdr_catalog", "raw_counts", "evaluation_summary"):
        expect(_visible_text(page, n)).to_be_visible(timeout=UI_TIMEOUT_MS)
    _settle(page)
    _shot(page, tmp_path, "asset_catalog")


def test_partition_matrix_shows_tissues_and_missions(page, dagster_e2e, gastrocnemius_backfill, tmp_path):
    # gastrocnemius_backfill (after the catalog run): the selected partition's raw-file sha256 is
    # materialization metadata, so the study must have been materialized by this test's own fixtures,
    # not by whichever e2e test happened to run before it (alone, this test used to fail).
    from genebench_assets.science.osdr.study_catalog import load_catalog

    expect = _expect()
    page.goto(f"{dagster_e2e.url}/assets/raw_counts?view=partitions", wait_until="domcontentloaded",
              timeout=UI_TIMEOUT_MS)
    for key in [*REAL_MISSIONS, ABSENT_MISSION, TISSUE]:
        expect(_visible_text(page, key)).to_be_visible(timeout=UI_TIMEOUT_MS)
    tissues = list(load_catalog().tissues)
    missing = [t for t in tissues if page.get_by_text(t, exact=True).locator("visible=true").count() == 0]
    assert not missing, f"tissue partition keys not on screen: {missing}"
    _shot(page, tmp_path, "raw_counts_partitions")

    # Select the (RR-1, gastrocnemius) partition (first column: mission, then tissue): its
    # materialization metadata, with the raw files' sha256, is shown.
    _visible_text(page, REAL_MISSIONS[0]).click()
    _visible_text(page, TISSUE).click()
    expect(_visible_text(page, "sha256")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(500)
    _shot(page, tmp_path, "raw_counts_partition_selected")


def test_evaluation_lineage_in_the_ui(page, dagster_e2e, gastrocnemius_backfill, tmp_path):
    """A user who clicks the evaluation of a tissue sees where its AUROCs came from."""
    if not gastrocnemius_backfill.ok:
        pytest.fail("the backfill did not succeed:\n" + gastrocnemius_backfill.diagnostics, pytrace=False)
    expect = _expect()
    page.goto(f"{dagster_e2e.url}/assets/evaluation_summary?view=partitions", wait_until="domcontentloaded",
              timeout=UI_TIMEOUT_MS)
    _visible_text(page, TISSUE).click(timeout=UI_TIMEOUT_MS)
    for label in ("lineage", "provenance", "auroc_genes_lr", "auroc_pathways_pca_lr"):
        expect(_visible_text(page, label)).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(500)
    _shot(page, tmp_path, "evaluation_summary_metadata")

    # Long markdown is collapsed behind "[Show Markdown]": open the lineage row's.
    row = page.locator("tr").filter(has=page.get_by_text("lineage", exact=True))
    row.get_by_text("[Show Markdown]").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT_MS)
    from genebench_assets.science.osdr.study_catalog import load_catalog

    catalog = load_catalog()
    for m in REAL_MISSIONS:
        for study in catalog.studies_for(TISSUE, m):
            expect(dialog.get_by_text(study.osd).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(dialog.get_by_text("sha256").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(500)
    _shot(page, tmp_path, "evaluation_summary_lineage")
