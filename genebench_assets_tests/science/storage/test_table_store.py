"""The table store: protocol-dependent tables side by side, promotion of study snapshots behind an
atomically moved pointer, and the same behaviour on a local path, a file:// URL and an fsspec
memory:// URL (issues 9, 10, 14)."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.storage.table_store import PromotionError, TableNotFoundError, TableStore

# Table names not under a pandera contract: these tests are about where bytes go, not what they hold.
PROTOCOL_ASSETS = ("evaluation_summary",)


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(5, 3)), index=[f"g{i}" for i in range(5)], columns=list("abc"))


@pytest.fixture(params=["path", "file_url", "memory_url"])
def root(request, tmp_path):
    if request.param == "path":
        return str(tmp_path / "data")
    if request.param == "file_url":
        return (tmp_path / "data").as_uri()
    return f"memory://genebench-test-{uuid.uuid4().hex}/data"


def _store(root, protocol=None):
    return TableStore(root, protocol=protocol, protocol_assets=PROTOCOL_ASSETS)


def _write_study(store, seed):
    shas = {}
    for asset in ("meta_table", "expr_table"):
        _, shas[(asset, "parquet")] = store.write_frame(_frame(seed + len(asset)), asset, "liver", "RR-1")
    _, shas[("raw_files", "json")] = store.write_json([{"osd": "OSD-1", "seed": seed}], "raw_files", "liver", "RR-1")
    return shas


def test_write_read_roundtrip_and_sha(root):
    store = _store(root)
    df = _frame(1)
    _, sha = store.write_frame(df, "expr_table", "liver", "RR-1")
    pd.testing.assert_frame_equal(store.read_frame("expr_table", "liver", "RR-1"), df)
    assert store.sha256("expr_table", "liver", "RR-1") == sha
    assert store.exists("expr_table", "liver", "RR-1")
    store.write_json({"x": [1, 2]}, "raw_files", "liver", "RR-1")
    assert store.read_json("raw_files", "liver", "RR-1") == {"x": [1, 2]}
    with pytest.raises(TableNotFoundError, match="expr_table liver/RR-9: not materialized yet"):
        store.read_frame("expr_table", "liver", "RR-9")


def test_file_url_is_the_local_directory(tmp_path):
    local, url = TableStore(tmp_path / "d"), TableStore((tmp_path / "d").as_uri())
    url.write_frame(_frame(2), "expr_table", "liver", "RR-1")
    assert local.path("expr_table", "liver", "RR-1") == url.path("expr_table", "liver", "RR-1")
    assert (tmp_path / "d" / "tables" / "expr_table" / "liver" / "RR-1.parquet").exists()
    assert not list((tmp_path / "d").rglob("*.tmp"))  # temp file + rename, nothing left over


def test_protocols_side_by_side(root):
    strict, seed = _store(root, "strict"), _store(root, "seed")
    strict.write_frame(_frame(1), "evaluation_summary", "liver")
    seed.write_frame(_frame(2), "evaluation_summary", "liver")
    assert str(strict.path("evaluation_summary", "liver")).endswith("tables/strict/evaluation_summary/liver.parquet")
    assert not strict.read_frame("evaluation_summary", "liver").equals(seed.read_frame("evaluation_summary", "liver"))
    # per-study tables are shared by both protocols
    assert strict.path("meta_table", "liver", "RR-1") == seed.path("meta_table", "liver", "RR-1")
    with pytest.raises(ValueError, match="evaluation_summary: its tables depend on the protocol"):
        _store(root).path("evaluation_summary", "liver")
    with pytest.raises(ValueError, match="protocol: 'loose' is not one of seed, strict"):
        TableStore(root, protocol="loose")


def test_promotion_snapshots_and_moves_the_pointer(root):
    store = _store(root)
    assert store.promoted("liver", "RR-1") is None
    good = _write_study(store, 1)
    v1 = store.promote("liver", "RR-1", good, {"why": "checks passed"})
    assert store.promoted("liver", "RR-1") == v1 and v1.evidence == {"why": "checks passed"}
    assert store.promote("liver", "RR-1", good, {}) == v1  # promoting the same version: no-op
    # New (unchecked) working copies do not change what readers see ...
    bad = _write_study(store, 2)
    pd.testing.assert_frame_equal(store.read_promoted_frame(v1, "meta_table"), _frame(1 + len("meta_table")))
    assert store.read_promoted_json(v1, "raw_files") == [{"osd": "OSD-1", "seed": 1}]
    # ... until they are promoted; the previous snapshot is kept for a reader still on it.
    v2 = store.promote("liver", "RR-1", bad, {})
    assert v2.version != v1.version and store.promoted("liver", "RR-1").version == v2.version
    pd.testing.assert_frame_equal(store.read_promoted_frame(v1, "meta_table"), _frame(1 + len("meta_table")))
    v3 = store.promote("liver", "RR-1", _write_study(store, 3), {})
    with pytest.raises(PromotionError, match="promoted file missing"):
        store.read_promoted_frame(v1, "meta_table")  # pruned: only the current and previous stay
    assert store.read_promoted_json(v3, "raw_files") == [{"osd": "OSD-1", "seed": 3}]


def test_a_working_copy_changed_since_its_checks_is_not_promoted(root):
    store = _store(root)
    checked = _write_study(store, 1)
    v1 = store.promote("liver", "RR-1", checked, {})
    checked = _write_study(store, 5)
    store.write_frame(_frame(99), "meta_table", "liver", "RR-1")  # rewritten after the checks ran
    with pytest.raises(PromotionError, match=r"meta_table \(liver, RR-1\): working copy changed since its checks ran"):
        store.promote("liver", "RR-1", checked, {})
    assert store.promoted("liver", "RR-1") == v1  # the pointer did not move


def _promote_repeatedly(root: str, n: int, barrier, out) -> None:
    """One of two processes promoting the same study version at once (lomo_folds and transfer_pair_folds
    of one tissue do); puts the errors it met on `out`."""
    import shutil

    store = TableStore(root)
    expected = {(a, ext): store.sha256(a, "liver", "RR-1", ext=ext)
                for a, ext in (("meta_table", "parquet"), ("expr_table", "parquet"), ("raw_files", "json"))}
    errors = []
    for i in range(n):
        barrier.wait()
        if i % 2 == 0:  # start from nothing half of the time, so both race to build the snapshot
            shutil.rmtree(store._study_dir("liver", "RR-1"), ignore_errors=True)
        barrier.wait()
        try:
            store.promote("liver", "RR-1", expected, {})
        except Exception as e:  # noqa: BLE001 - counted, the test reports them
            errors.append(f"{type(e).__name__}: {e}")
    out.put(errors)


def test_two_processes_promoting_one_version_at_once_both_succeed_with_one_snapshot(tmp_path):
    import multiprocessing as mp

    store = TableStore(tmp_path)
    _write_study(store, 1)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_promote_repeatedly, args=(str(tmp_path), 40, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    errors = [e for _ in procs for e in out.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
    assert errors == []
    study_dir = store._study_dir("liver", "RR-1")
    snapshots = [d.name for d in study_dir.iterdir() if d.is_dir()]
    version = store.promoted("liver", "RR-1")
    assert snapshots == [version.version]  # one snapshot, no temp folder left
    assert store.read_promoted_frame(version, "meta_table").shape[0] > 0
