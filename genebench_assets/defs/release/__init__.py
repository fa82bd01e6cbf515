"""The published GeneLab release as a source (issue 4): reproduce the pathway-level LOMO exactly."""

import dagster as dg

from genebench_assets.defs.release.assets import (
    release_evaluation, release_fold_features, release_job, release_predictions)
from genebench_assets.defs.release.resources import ReleaseSettings

defs = dg.Definitions(
    assets=[release_fold_features, release_predictions, release_evaluation],
    jobs=[release_job],
    resources={
        "release_settings": ReleaseSettings(),
        # Worker processes already running for the steps' per-partition work: `genebench reproduce`
        # starts them before it loads Dagster and passes them to its run; None here (UI, `dg launch`):
        # each step starts its own (defs/release/assets.py `_workers`).
        "release_workers": dg.ResourceDefinition.none_resource(
            description="worker processes started by `genebench reproduce` for its run, else none"),
    },
)
