"""Configuration shared by every domain: where data lives, which source, which protocol."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from genebench_assets.science.osdr.study_catalog import StudyCatalog, load_catalog
from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.storage.data_dir import default_data_dir, local_data_dir  # noqa: F401 (re-exported)
from genebench_assets.science.storage.table_store import TableStore

REPO_ROOT = Path(__file__).resolve().parents[3]

# Tables whose content depends on the protocol (seed / strict): stored under tables/<protocol>/, so
# the two protocols' results stand side by side (issue 9). Per-study tables do not depend on it.
PROTOCOL_ASSETS = (
    "lomo_folds", "lomo_folds_inputs", "lomo_fold_features", "model_predictions", "model_fit_times", "evaluation_summary",
    "evaluation_folds", "text_llm_predictions",
    # Category B and the negative controls (defs/transfer): folds, predictions and evaluations per protocol.
    "transfer_pair_folds", "transfer_pair_folds_raw_files", "transfer_predictions", "transfer_evaluation",
    "transfer_evaluation_pairs", "negative_controls", "nes_conservation_vs_b_transfer",
    # Issue 21: gene-level SHAP (defs/analyses/gene_shap.py), fitted on the protocol's folds.
    "gene_shap",
    # Issue 21, J3 (defs/batch_correction): corrections fitted per protocol, and what is computed from them.
    "batch_corrected_features", "batch_correction_comparison", "a1_iss_only_results", "j3_batch_correction_summary",
)


def from_env(name: str, default: str = "", cast=str):
    """A resource field default read from the environment when the resource is built (not at import)."""
    return Field(default_factory=lambda: cast(os.environ.get(name, default)))


def env_list(name: str, default: str = ""):
    return Field(default_factory=lambda: [x for x in os.environ.get(name, default).split(",") if x])


def env_flag(name: str):
    return Field(default_factory=lambda: os.environ.get(name, "") not in ("", "0", "false", "no"))


def default_shared_data() -> str:
    return os.environ.get("GENEBENCH_SHARED_DATA", str(REPO_ROOT.parent / "shared" / "data"))


class GenebenchSettings(dg.ConfigurableResource):
    """Where outputs go and which protocol the benchmark follows (SPEC §11)."""

    data_dir: str = Field(default_factory=default_data_dir)
    protocol: str = from_env("GENEBENCH_PROTOCOL", "strict")  # "seed" or "strict"
    # Empty: the packaged GeneLab benchmark v1 catalog. GENEBENCH_CATALOG also sets the tissue
    # partitions (defs/runtime/partitions.py), so both always come from one catalog file.
    catalog_path: str = from_env("GENEBENCH_CATALOG", "")

    def catalog(self) -> StudyCatalog:
        base = load_catalog(self.catalog_path or None)
        # Studies added at run time by the refresh sensor (issue 5) live beside the data.
        from genebench_assets.science.osdr.catalog_additions import load_additions

        return base.with_studies(load_additions(Path(self.data_dir)))

    def table_store(self) -> TableStore:
        """The table store for this protocol: protocol-dependent tables under tables/<protocol>/."""
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"GENEBENCH_PROTOCOL: {self.protocol!r} is not one of seed, strict")
        return TableStore(self.data_dir, protocol=self.protocol, protocol_assets=PROTOCOL_ASSETS)

    def path(self, *parts: str) -> Path:
        return Path(self.data_dir).joinpath(*parts)
