"""SpaceOmicsBench's ML tasks as a partitioned asset graph (issue 12, SPEC §12)."""

import dagster as dg

from genebench_assets.defs.spaceomicsbench import assets, checks
from genebench_assets.defs.spaceomicsbench.resources import SpaceOmicsBenchMLSettings

defs = dg.Definitions(
    assets=[assets.soma_task_definition, assets.soma_task_data, assets.soma_split_folds, assets.soma_predictions,
            assets.soma_evaluation, assets.soma_leaderboard],
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    jobs=[assets.soma_tasks_job, assets.soma_leaderboard_job],
    resources={"soma_settings": SpaceOmicsBenchMLSettings()},
)
