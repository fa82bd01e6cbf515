"""One (tissue, mission) study partition as every per-study asset sees it: its tables in the store,
its provenance, and the rule for absent pairs (see partitions.py).

An asset reading an upstream *asset* of its study (raw_counts, sample_metadata, normalized_expression)
reads it only if that table passed its blocking checks on its latest materialization
(study_promotion.require_verified); a check reads the table it checks as it is."""

import dataclasses
from typing import Any

import dagster as dg
import pandas as pd

from genebench_assets.defs.runtime.partitions import pair_of
from genebench_assets.defs.lineage.provenance import provenance_metadata
from genebench_assets.science.storage.table_store import TableStore


# The data version of every absent (tissue, mission) pair's record (see partitions.py): constant,
# so re-recording an absent pair never makes anything downstream stale.
ABSENT_DATA_VERSION = "absent"
ABSENT_METADATA_KEY = "absent"


def absent_reason(tissue: str, mission: str) -> str:
    return f"({tissue}, {mission}) is not a study in the catalog"


def absent_results(context: dg.AssetExecutionContext, settings) -> list[dg.MaterializeResult]:
    """The explicit record of an absent pair, one per asset the step materializes (every output of a
    multi-asset): data version "absent", metadata saying why, and no table. A backfill over every
    partition then completes, and the pair is never counted as a study nor as missing work."""
    tissue, mission = pair_of(context)
    metadata = {
        ABSENT_METADATA_KEY: f"{absent_reason(tissue, mission)}: no table written; "
                             "never counted as a study or as missing work",
        # What the tissue does have, so the reader sees where the real studies are.
        f"missions_with_{tissue}_studies": ", ".join(sorted({m for t, m in settings.catalog().pairs() if t == tissue}))
        or "none",
    }
    return [dg.MaterializeResult(asset_key=key, data_version=dg.DataVersion(ABSENT_DATA_VERSION), metadata=metadata)
            for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string())]


def is_absent_materialization(materialization) -> bool:
    """True for the record absent_results writes (an AssetMaterialization or its event record)."""
    mat = getattr(materialization, "asset_materialization", materialization)
    return mat is not None and (mat.tags or {}).get("dagster/data_version") == ABSENT_DATA_VERSION


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
        """The partition's study, or None (logged) for a pair the catalog does not have: an asset then
        yields `absent_results(context)`, a check returns check_results.skipped_absent."""
        tissue, mission = pair_of(context)
        if not settings.catalog().has_pair(tissue, mission):
            context.log.info(f"{absent_reason(tissue, mission)}: recorded as absent "
                             f"(data version {ABSENT_DATA_VERSION!r}, no table written)")
            return None
        if isinstance(context, dg.AssetCheckExecutionContext):
            return cls(tissue, mission, TableStore(settings.data_dir))
        return cls(tissue, mission, TableStore(settings.data_dir), context.instance,
                   context.asset_key.to_user_string())

    def read(self, asset: str) -> pd.DataFrame:
        from genebench_assets.defs.gating.study_promotion import GATED_ASSETS, require_verified

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
