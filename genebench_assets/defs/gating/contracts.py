"""The science core's data contracts (science/contracts.py, pandera) shown on the assets in the UI.

The schemas are enforced where tables are written (TableStore.write_frame); here each contracted
asset gets the schema as its column schema (dagster-pandera renders pandera schemas as Dagster table
schemas) and the contract's description, so the UI's asset page shows what a valid table is."""

from __future__ import annotations

import warnings

import dagster as dg
from dagster_pandera import pandera_schema_to_dagster_type

from genebench_assets.science.contracts import CONTRACTS


def contract_metadata(asset: str) -> dict:
    schema = CONTRACTS[asset]
    with warnings.catch_warnings():  # beta API, pinned with dagster 1.13.27
        warnings.simplefilter("ignore", dg.BetaWarning)
        dagster_type = pandera_schema_to_dagster_type(schema)
    return {
        "dagster/column_schema": dagster_type.metadata["schema"].schema,
        "data_contract": dg.MetadataValue.md(
            f"**{schema.name}** (pandera, checked before the table is written): {schema.description} "
            "Column `.+` means one column per sample."),
    }


def with_contracts(defs: dg.Definitions) -> dg.Definitions:
    """The same definitions, the contracted assets carrying their schema as metadata."""
    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = spec.key.to_user_string()
        return spec.merge_attributes(metadata=contract_metadata(name)) if name in CONTRACTS else spec

    return defs.map_asset_specs(func=attach)
