"""Read every real (tissue, mission) study of one tissue from the store, for tissue-level assets."""

from __future__ import annotations

import dataclasses

import dagster as dg
import pandas as pd

from genebench_assets.science.osdr.study_catalog import StudyCatalog
from genebench_assets.science.storage.table_store import TableStore


@dataclasses.dataclass
class TissueData:
    tissue: str
    missions: list[str]  # LOMO missions, sorted
    holdout_missions: list[str]
    expression: pd.DataFrame  # genes x samples, log2; NaN where a gene is absent from a study
    metadata: pd.DataFrame  # sample_metadata rows of every mission
    upstream: list[dict]  # [{asset, partition, data_version}]
    raw_files: list[dict]


def load_tissue(store: TableStore, catalog: StudyCatalog, tissue: str) -> TissueData:
    missions = catalog.missions_for(tissue)
    holdouts = catalog.holdout_missions(tissue)
    exprs, metas, upstream, raw_files, missing = [], [], [], [], []
    for mission in missions + holdouts:
        if not store.exists("normalized_expression", tissue, mission):
            missing.append(mission)
            continue
        exprs.append(store.read_frame("normalized_expression", tissue, mission))
        metas.append(store.read_frame("sample_metadata", tissue, mission))
        raw_files.extend(store.read_json("raw_files", tissue, mission))
        for asset in ("normalized_expression", "sample_metadata"):
            upstream.append(
                {"asset": asset, "partition": f"{tissue}|{mission}",
                 "data_version": store.sha256(asset, tissue, mission)[:16]}
            )
    if missing:
        # A real study not yet materialized: say which, rather than quietly training on fewer missions.
        raise dg.Failure(
            f"{tissue}: studies not materialized yet for missions {missing}; materialize "
            f"normalized_expression for ({tissue}, {', '.join(missing)}) first"
        )
    expression = pd.concat(exprs, axis=1, join="outer")
    metadata = pd.concat(metas)
    return TissueData(tissue, missions, holdouts, expression, metadata, upstream, raw_files)
