"""GENEBENCH_DATA_DIR accepts a local path or a file:// URL (issue 14); other URLs are refused in one line."""

from __future__ import annotations

import pytest

from genebench_assets.defs.runtime.settings import GenebenchSettings


@pytest.mark.parametrize("form", ["path", "file_url"])
def test_data_dir_path_or_file_url(tmp_path, monkeypatch, form):
    target = tmp_path / "data dir"
    monkeypatch.setenv("GENEBENCH_DATA_DIR", str(target) if form == "path" else target.as_uri())
    settings = GenebenchSettings(protocol="strict")
    assert settings.data_dir == str(target)
    store = settings.table_store()
    store.write_json({"ok": True}, "evaluation_summary", "liver")
    assert (target / "tables" / "strict" / "evaluation_summary" / "liver.json").exists()


def test_other_url_is_refused(monkeypatch):
    monkeypatch.setenv("GENEBENCH_DATA_DIR", "s3://bucket/genebench")
    with pytest.raises(ValueError, match="GENEBENCH_DATA_DIR: 's3://bucket/genebench' uses protocol 's3'"):
        GenebenchSettings()
