import dagster as dg

from genebench_assets.defs.sources import assets, checks

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
)
