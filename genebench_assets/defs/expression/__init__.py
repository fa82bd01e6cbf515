import dagster as dg

from genebench_assets.defs.expression import assets

defs = dg.Definitions(assets=dg.load_assets_from_modules([assets]))
