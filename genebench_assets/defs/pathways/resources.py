"""Gene-set collections: which GMT files, which Ensembl -> symbol map (SPEC §9)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pydantic import Field

from genebench_assets.defs.runtime.settings import default_shared_data, env_list, from_env


def _parse_collections(spec: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, path = item.partition("=")
        if not path:
            raise ValueError(f"GENEBENCH_GENE_SETS entry {item!r} must look like name=/path/to/file.gmt")
        out[name.strip()] = path.strip()
    return out


class GeneSetSettings(dg.ConfigurableResource):
    """Collections as name -> GMT path. Empty means: the demo's synthetic sets in demo mode, otherwise
    mouse Hallmark and MitoCarta from ../shared/data/gene_sets (KEGG / Reactome when configured)."""

    collections: dict[str, str] = Field(
        default_factory=lambda: _parse_collections(os.environ.get("GENEBENCH_GENE_SETS", "")))
    symbol_map: str = from_env("GENEBENCH_SYMBOL_MAP", "")
    # gsva (Gaussian, the default), gsva_poisson, ssgsea: one table per collection and method.
    methods: list[str] = env_list("GENEBENCH_PATHWAY_METHODS", "gsva")
    min_size: int = 15
    max_size: int = 500

    def resolve(self, source_mode: str, demo_root: Path) -> tuple[dict[str, Path], Path]:
        if self.collections:
            collections = {k: Path(v) for k, v in self.collections.items()}
        elif source_mode == "demo":
            collections = {"demo": demo_root / "gene_sets" / "demo_pathways.gmt"}
        else:
            shared = Path(default_shared_data())
            collections = {
                "hallmark": shared / "gene_sets" / "mouse_hallmark_v7.0.gmt",
                "mitocarta": shared / "gene_sets" / "mitocarta3_mouse.gmt",
            }
        if self.symbol_map:
            symbol_map = Path(self.symbol_map)
        elif source_mode == "demo":
            symbol_map = demo_root / "gene_sets" / "demo_symbol_map.csv"
        else:
            symbol_map = Path(default_shared_data()) / "genelab_release" / "processed" / "ensembl_symbol_map.csv"
        for name, path in {**collections, "symbol_map": symbol_map}.items():
            if not path.exists():
                raise dg.Failure(
                    f"gene-set input {name!r} not found at {path}; set GENEBENCH_GENE_SETS=name=/path.gmt,... "
                    "and GENEBENCH_SYMBOL_MAP=/path.csv"
                )
        return collections, symbol_map

    def primary(self, source_mode: str, demo_root: Path) -> str:
        return next(iter(self.resolve(source_mode, demo_root)[0]))
