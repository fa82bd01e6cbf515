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
    df = pd.DataFrame({"a": [1]})
    path, sha = store.write_frame(df, "raw_counts", "liver", "RR-1")
    assert path == tmp_path / "tables" / "raw_counts" / "liver" / "RR-1.parquet"
    assert sha == store.sha256("raw_counts", "liver", "RR-1")
    with pytest.raises(TableNotFoundError, match="raw_counts liver/RR-3: not materialized"):
        store.read_frame("raw_counts", "liver", "RR-3")
