"""Configuration shared by every domain: where data lives, which source, which protocol."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from genebench_assets.science.study_catalog import StudyCatalog, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> str:
    return os.environ.get("GENEBENCH_DATA_DIR", str(REPO_ROOT / "data"))


def default_shared_data() -> str:
    return os.environ.get("GENEBENCH_SHARED_DATA", str(REPO_ROOT.parent / "shared" / "data"))


class GenebenchSettings(dg.ConfigurableResource):
    """Where outputs go and which protocol the benchmark follows (SPEC §11)."""

    data_dir: str = default_data_dir()
    protocol: str = os.environ.get("GENEBENCH_PROTOCOL", "strict")  # "seed" or "strict"
    catalog_path: str = ""  # empty: the packaged GeneLab benchmark v1 catalog

    def catalog(self) -> StudyCatalog:
        base = load_catalog(self.catalog_path or None)
        # Studies added at run time by the refresh sensor (issue 5) live beside the data.
        from genebench_assets.science.catalog_additions import load_additions

        return base.with_studies(load_additions(Path(self.data_dir)))

    def path(self, *parts: str) -> Path:
        return Path(self.data_dir).joinpath(*parts)
