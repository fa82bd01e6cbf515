"""Where the published GeneLab benchmark release lives, and where reproduced result files go."""

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from genebench_assets.defs.runtime.settings import default_data_dir, default_shared_data, from_env

COLLECTIONS = ["hallmark", "kegg", "reactome", "mitocarta"]


class ReleaseSettings(dg.ConfigurableResource):
    release_dir: str = Field(default_factory=lambda: os.environ.get(
        "GENEBENCH_RELEASE_DIR", str(Path(default_shared_data()) / "genelab_release")))
    out_dir: str = Field(default_factory=lambda: os.environ.get(
        "GENEBENCH_RELEASE_OUT", str(Path(default_data_dir()) / "release_results")))
    # Fits of a run (all its tissues and collections) run on this many processes; results do not depend on it.
    n_jobs: int = from_env("GENEBENCH_JOBS", "2", int)

    def checked_release_dir(self) -> Path:
        path = Path(self.release_dir)
        if not (path / "tasks").is_dir():
            raise dg.Failure(f"GeneLab release not found: {path} has no tasks/ folder "
                             "(set GENEBENCH_RELEASE_DIR or pass --release)")
        return path
