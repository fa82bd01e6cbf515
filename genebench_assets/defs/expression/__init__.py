import dagster as dg

from genebench_assets.defs.expression.assets import normalized_expression

defs = dg.Definitions(assets=[normalized_expression])
