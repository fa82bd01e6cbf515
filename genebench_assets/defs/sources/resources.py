"""One source resource, three modes (demo, osdr, mirror), one parser behind them (SPEC §3)."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg

from genebench_assets.defs.runtime.settings import env_flag, from_env
from genebench_assets.science.osdr.source_files import SourceFile
from genebench_assets.science.osdr.study_catalog import Study, StudyCatalog

SOURCE_MODES = ("demo", "osdr", "mirror")
log = logging.getLogger("genebench.sources")


class OsdrSource(dg.ConfigurableResource):
    """Where raw GeneLab files come from.

    - demo (default): the embedded, seeded simulator writes GeneLab-format files into
      `<data_dir>/demo_osdr/` (the mirror layout) and they are read back like any mirror. Offline.
    - osdr: the live OSDR API (httpx + tenacity), downloads cached under `<data_dir>/osdr_cache/`.
    - mirror: a local directory `OSD-N/<GeneLab files>` (air-gapped and HPC users).

    `quantifier` (GENEBENCH_QUANTIFIER, default RSEM as SPEC §3 says; or STAR) picks whose unnormalized
    counts are read in the osdr and mirror modes; each counts file records it in its provenance.
    """

    mode: str = from_env("GENEBENCH_SOURCE", "demo")
    mirror_root: str = from_env("GENEBENCH_MIRROR", "")
    osdr_base_url: str = from_env("GENEBENCH_OSDR_URL", "https://osdr.nasa.gov")
    # Total seconds one OSDR request may spend waiting between retries (Retry-After included).
    osdr_max_total_wait: float = from_env("GENEBENCH_OSDR_MAX_WAIT", "120", float)
    # Largest body one OSDR download may have, in bytes (a listing without file_size is bounded too).
    osdr_max_download_bytes: int = from_env("GENEBENCH_OSDR_MAX_DOWNLOAD", str(2 * 1024**3), int)
    quantifier: str = from_env("GENEBENCH_QUANTIFIER", "RSEM")
    demo_seed: int = 42
    demo_n_genes: int = from_env("GENEBENCH_DEMO_GENES", "6000", int)
    demo_publish_held_back: bool = env_flag("GENEBENCH_DEMO_PUBLISH")

    def _check_mode(self) -> None:
        if self.mode not in SOURCE_MODES:
            raise dg.Failure(f"source mode {self.mode!r} is not one of {SOURCE_MODES} (set GENEBENCH_SOURCE)")
        from genebench_assets.science.osdr.genelab_files import QUANTIFIERS

        if self.quantifier not in QUANTIFIERS:
            raise dg.Failure(f"quantifier {self.quantifier!r} is not one of {list(QUANTIFIERS)} (set GENEBENCH_QUANTIFIER)")

    @property
    def simulated(self) -> bool:
        return self.mode == "demo"

    def demo_root(self, data_dir: str | Path) -> Path:
        return Path(data_dir) / "demo_osdr"

    def ensure_demo(self, data_dir: str | Path, catalog: StudyCatalog) -> Path:
        from genebench_assets.science.osdr.demo_simulator import write_demo_mirror

        root = self.demo_root(data_dir)
        # Idempotent and atomic per file: concurrent runs write identical bytes.
        write_demo_mirror(
            root,
            catalog,
            seed=self.demo_seed,
            n_genes=self.demo_n_genes,
            publish_held_back=self.demo_publish_held_back,
        )
        return root

    def fetch_study(self, study: Study, data_dir: str | Path, catalog: StudyCatalog) -> list[SourceFile]:
        self._check_mode()
        if self.mode == "demo":
            from genebench_assets.science.osdr.mirror import MirrorSource

            return MirrorSource(self.ensure_demo(data_dir, catalog), source_mode="demo").fetch_study(study)
        if self.mode == "mirror":
            from genebench_assets.science.osdr.mirror import MirrorSource

            if not self.mirror_root:
                raise dg.Failure("source mode 'mirror' needs a mirror_root (set GENEBENCH_MIRROR)")
            return MirrorSource(self.mirror_root, source_mode="mirror", quantifier=self.quantifier).fetch_study(study)
        with self.make_client(data_dir) as client:
            return client.fetch_study(study)

    def make_client(self, data_dir: str | Path):
        """The live OSDR client (tests override this to serve recorded responses)."""
        from genebench_assets.science.osdr.live_client import OsdrClient

        # httpx logs full URLs at INFO, signed object-store URLs included: keep them out of run logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        return OsdrClient(Path(data_dir) / "osdr_cache", base_url=self.osdr_base_url,
                          max_total_wait=self.osdr_max_total_wait, quantifier=self.quantifier,
                          max_download_bytes=self.osdr_max_download_bytes)
