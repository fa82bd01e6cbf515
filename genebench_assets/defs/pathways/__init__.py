import dagster as dg

from genebench_assets.defs.pathways import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
