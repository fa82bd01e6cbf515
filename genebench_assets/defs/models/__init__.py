import dagster as dg

from genebench_assets.defs.models.assets import model_predictions

defs = dg.Definitions(assets=[model_predictions])
