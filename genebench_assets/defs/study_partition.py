"""One (tissue, mission) study partition as every per-study asset sees it: its tables in the store,
its provenance, and the rule for absent pairs (see partitions.py).

An asset reading an upstream *asset* of its study (raw_counts, sample_metadata, normalized_expression)
reads it only if that table passed its blocking checks on its latest materialization
(study_promotion.require_verified); a check reads the table it checks as it is."""

import dataclasses
from typing import Any

import dagster as dg
import pandas as pd

from genebench_assets.defs.partitions import pair_of
from genebench_assets.defs.provenance import provenance_metadata
from genebench_assets.science.storage.table_store import TableStore


@dataclasses.dataclass(frozen=True)
class StudyPartition:
    tissue: str
    mission: str
    store: TableStore
    # Set for assets (not checks): reads of gated upstream tables are verified in this instance.
    instance: Any = None
    reader: str | None = None

    @classmethod
    def open(cls, context: dg.AssetExecutionContext, settings) -> "StudyPartition | None":
        """The partition's study, or None (logged) for a pair the catalog does not have."""
        tissue, mission = pair_of(context)
        if not settings.catalog().has_pair(tissue, mission):
            context.log.info(f"({tissue}, {mission}) is not a study in the catalog: nothing to materialize; "
                             "the partition stays missing")
            return None
        if isinstance(context, dg.AssetCheckExecutionContext):
            return cls(tissue, mission, TableStore(settings.data_dir))
        return cls(tissue, mission, TableStore(settings.data_dir), context.instance,
                   context.asset_key.to_user_string())

    def read(self, asset: str) -> pd.DataFrame:
        from genebench_assets.defs.study_promotion import GATED_ASSETS, require_verified

        if self.instance is not None and asset in GATED_ASSETS and asset != self.reader:
            require_verified(self.instance, self.store, asset, self.tissue, self.mission)
        return self.store.read_frame(asset, self.tissue, self.mission)

    def write(self, df: pd.DataFrame, asset: str, *sub: str) -> str:
        """Write a table; sub-parts go before the pair (e.g. the collection). Returns its sha256."""
        return self.store.write_frame(df, asset, *sub, self.tissue, self.mission)[1]

    def upstream(self, asset: str) -> dict[str, Any]:
        return {"asset": asset, "partition": f"{self.tissue}|{self.mission}",
                "data_version": self.store.sha256(asset, self.tissue, self.mission)[:16]}

    def raw_files(self) -> list[dict[str, Any]]:
        return self.store.read_json("raw_files", self.tissue, self.mission)

    def provenance(self, *upstream_assets: str, protocol: str | None = None) -> dict[str, Any]:
        return provenance_metadata(upstream=[self.upstream(a) for a in upstream_assets],
                                   raw_files=self.raw_files(), protocol=protocol)
