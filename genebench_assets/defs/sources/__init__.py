import dagster as dg

from genebench_assets.defs.sources import checks
from genebench_assets.defs.sources.assets import osdr_catalog, raw_counts, sample_metadata

# Explicit lists: load_assets_from_modules would also collect assets other modules import.
defs = dg.Definitions(
    assets=[osdr_catalog, raw_counts, sample_metadata],
    asset_checks=dg.load_asset_checks_from_modules([checks]),
)
