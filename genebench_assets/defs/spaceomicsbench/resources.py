"""Where SpaceOmicsBench's task files are, which protocol, which baselines, where results go."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from genebench_assets.defs.llm.resources import default_spaceomicsbench_dir
from genebench_assets.defs.runtime.settings import from_env
from genebench_assets.science.protocols import PROTOCOLS


class SpaceOmicsBenchMLSettings(dg.ConfigurableResource):
    """``data_root``: the SpaceOmicsBench directory holding ``tasks/``, ``splits/``, ``data/``
    (default: GENEBENCH_SPACEOMICSBENCH_DIR, else ../shared/data/spaceomicsbench). ``protocol``:
    ``seed`` (the published numbers, defects included) or ``strict`` (defects fixed)."""

    data_root: str = Field(default_factory=default_spaceomicsbench_dir)
    protocol: str = from_env("GENEBENCH_PROTOCOL", "strict")
    models: list[str] = Field(default_factory=list)   # empty: every baseline of the task type
    n_boot: int = 200
    out_dir: str = ""    # empty: <data_dir>/spaceomicsbench_results/<protocol>

    def root(self) -> Path:
        root = Path(self.data_root) if self.data_root else None
        if root is None or not (root / "tasks").is_dir():
            raise dg.Failure(f"SpaceOmicsBench data not found: {self.data_root or '<unset>'} has no tasks/ folder "
                             "(set GENEBENCH_SPACEOMICSBENCH_DIR or pass --data)", allow_retries=False)
        return root

    def checked_protocol(self) -> str:
        if self.protocol not in PROTOCOLS:
            raise dg.Failure(f"soma_settings: field 'protocol' must be seed or strict (value: {self.protocol!r})",
                             allow_retries=False)
        return self.protocol
