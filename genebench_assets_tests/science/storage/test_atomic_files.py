"""Atomic writes: a failed write leaves the old file (or nothing) and no temp file behind."""

import pandas as pd
import pytest

from genebench_assets.science.storage.atomic_files import atomic_path, sha256_file, write_json, write_parquet
from genebench_assets.science.storage.table_store import TableNotFoundError, TableStore


def test_failed_write_leaves_previous_content_and_no_temp(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_parquet_and_json_round_trip(tmp_path):
    df = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="sample_id"))
    p = write_parquet(df, tmp_path / "d" / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(p), df)
    j = write_json({"k": 1}, tmp_path / "f.json")
    assert j.read_text().strip().startswith("{") and len(sha256_file(j)) == 64


def test_table_store_paths_and_missing_table(tmp_path):
    store = TableStore(tmp_path)
    # raw_counts is written under its data contract: gene ids x samples, non-negative integers
    df = pd.DataFrame({"S1": [1]}, index=pd.Index(["ENSMUSG00000000001"], name="gene_id"))
    path, sha = store.write_frame(df, "raw_counts", "liver", "RR-1")
    assert path == tmp_path / "tables" / "raw_counts" / "liver" / "RR-1.parquet"
    assert sha == store.sha256("raw_counts", "liver", "RR-1")
    with pytest.raises(TableNotFoundError, match="raw_counts liver/RR-3: not materialized"):
        store.read_frame("raw_counts", "liver", "RR-3")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_outputs_get_the_mode_of_a_plain_open_not_mkstemps_0600(tmp_path, umask, mode):
    """Issue 10: every output was 0600, unreadable to the group on a shared HPC mirror."""
    import os
    import stat

    from genebench_assets.science.storage.atomic_files import current_umask

    old = os.umask(umask)
    try:
        assert current_umask() == umask
        paths = [write_json({"k": 1}, tmp_path / "f.json"),
                 write_parquet(pd.DataFrame({"a": [1]}), tmp_path / "f.parquet"),
                 TableStore(tmp_path / "store").write_frame(pd.DataFrame({"a": [1]}), "asset", "liver", "RR-1")[0]]
        with open(tmp_path / "plain.txt", "w"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == mode
    for p in paths:
        assert stat.S_IMODE(os.stat(p).st_mode) == mode, p


def test_atomic_write_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    """Safe from readers is the rename; safe from a power cut needs the bytes and the rename on disk."""
    import os

    from genebench_assets.science.storage import atomic_files

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))),
                                                 real_fsync(fd)))
    monkeypatch.setattr(atomic_files.os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b)))
    target = tmp_path / "out.json"
    atomic_files.write_json({"a": 1}, target)
    kinds = [k for k, _ in events]
    assert kinds == ["fsync", "replace", "fsync"], events
    assert events[0][1].startswith(str(tmp_path / ".out.json.")) and events[2][1] == str(tmp_path)
