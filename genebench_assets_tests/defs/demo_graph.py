"""Run parts of the real asset graph in-process on the demo, with resources pointed at a temp dir."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import dagster as dg

from genebench_assets.definitions import defs
from genebench_assets.defs.models.assets import ModelSettings
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource

STUDY_GENE_ASSETS = ["raw_counts", "sample_metadata", "normalized_expression"]
TISSUE_GENE_ASSETS = ["lomo_folds", "model_predictions", "evaluation_summary"]


class DemoGraph:
    def __init__(self, data_dir: Path, *, models=("lr", "negative_control"), feature_sets=("genes",),
                 protocol: str = "strict", source: OsdrSource | None = None):
        self.data_dir = Path(data_dir)
        self.instance = dg.DagsterInstance.ephemeral()
        self.settings = GenebenchSettings(data_dir=str(self.data_dir), protocol=protocol)
        self.source = source or OsdrSource(mode="demo", demo_n_genes=6000, demo_publish_held_back=False)
        self.resources = {
            **(defs.resources or {}),  # the LLM and release resources, unchanged
            "settings": self.settings,
            "osdr_source": self.source,
            "gene_set_settings": GeneSetSettings(collections={}, symbol_map=""),
            "model_settings": ModelSettings(models=list(models), feature_sets=list(feature_sets)),
        }

    def run(self, keys, partition_key=None) -> dg.ExecuteInProcessResult:
        selection = [dg.AssetKey(k) for k in keys]
        checks = [c for c in (defs.asset_checks or []) if any(k.asset_key in selection for k in c.check_keys)]
        return dg.materialize(
            [*defs.assets, *checks], selection=selection, partition_key=partition_key,
            instance=self.instance, resources=self.resources, raise_on_error=False)

    def catalog(self):
        return self.run(["osdr_catalog"])

    def study(self, tissue: str, mission: str, keys=STUDY_GENE_ASSETS):
        return self.run(keys, dg.MultiPartitionKey({"tissue": tissue, "mission": mission}))

    def tissue(self, tissue: str, keys=TISSUE_GENE_ASSETS):
        return self.run(keys, tissue)


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.event_specific_data.check_name: e.event_specific_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def materialized(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]


def mirror_graph(root: Path) -> DemoGraph:
    """A DemoGraph reading a demo mirror at root/mirror, with its instance and tables under root too, so
    that copying root copies the whole state (a good baseline cloned per planted fault)."""
    g = DemoGraph(root / "data", source=OsdrSource(mode="mirror", mirror_root=str(root / "mirror")))
    (root / "dagster_home").mkdir(exist_ok=True)
    g.instance = dg.DagsterInstance.local_temp(tempdir=str(root / "dagster_home"))
    g.root, g.mirror = root, root / "mirror"
    return g


def mirror_baseline(root: Path, tissue: str, missions: list[str]) -> Path:
    """Write the demo mirror (seed 42, 6,000 genes) under root and materialize the catalog and the
    tissue's studies; returns root, ready to be cloned."""
    from genebench_assets.science.osdr import demo_simulator
    from genebench_assets.science.osdr.study_catalog import load_catalog

    demo_simulator.write_demo_mirror(root / "mirror", load_catalog(), seed=42, n_genes=6000)
    g = mirror_graph(root)
    assert g.catalog().success
    for m in missions:
        assert g.study(tissue, m).success, m
    g.instance.dispose()
    return root


@contextlib.contextmanager
def cloned_graph(baseline: Path, tmp_path: Path, make_graph=mirror_graph):
    """A copy of a mirror baseline (mirror, tables and instance) for one planted fault."""
    root = tmp_path / "clone"
    shutil.copytree(baseline, root)
    g = make_graph(root)
    try:
        yield g
    finally:
        g.instance.dispose()
