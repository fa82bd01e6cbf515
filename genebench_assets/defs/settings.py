"""Configuration shared by every domain: where data lives, which source, which protocol."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from genebench_assets.science.osdr.study_catalog import StudyCatalog, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]


def from_env(name: str, default: str = "", cast=str):
    """A resource field default read from the environment when the resource is built (not at import)."""
    return Field(default_factory=lambda: cast(os.environ.get(name, default)))


def env_list(name: str, default: str = ""):
    return Field(default_factory=lambda: [x for x in os.environ.get(name, default).split(",") if x])


def env_flag(name: str):
    return Field(default_factory=lambda: os.environ.get(name, "") not in ("", "0", "false", "no"))


def default_data_dir() -> str:
    return os.environ.get("GENEBENCH_DATA_DIR", str(REPO_ROOT / "data"))


def default_shared_data() -> str:
    return os.environ.get("GENEBENCH_SHARED_DATA", str(REPO_ROOT.parent / "shared" / "data"))


class GenebenchSettings(dg.ConfigurableResource):
    """Where outputs go and which protocol the benchmark follows (SPEC §11)."""

    data_dir: str = Field(default_factory=default_data_dir)
    protocol: str = from_env("GENEBENCH_PROTOCOL", "strict")  # "seed" or "strict"
    catalog_path: str = ""  # empty: the packaged GeneLab benchmark v1 catalog

    def catalog(self) -> StudyCatalog:
        base = load_catalog(self.catalog_path or None)
        # Studies added at run time by the refresh sensor (issue 5) live beside the data.
        from genebench_assets.science.osdr.catalog_additions import load_additions

        return base.with_studies(load_additions(Path(self.data_dir)))

    def path(self, *parts: str) -> Path:
        return Path(self.data_dir).joinpath(*parts)
