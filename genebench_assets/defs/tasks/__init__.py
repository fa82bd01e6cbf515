import dagster as dg

from genebench_assets.defs.tasks import checks
from genebench_assets.defs.tasks.assets import lomo_folds

defs = dg.Definitions(assets=[lomo_folds], asset_checks=dg.load_asset_checks_from_modules([checks]))
