"""The published GeneLab release as a source (issue 4): reproduce the pathway-level LOMO exactly."""

import dagster as dg

from genebench_assets.defs.release.assets import (
    release_evaluation, release_fold_features, release_job, release_predictions)
from genebench_assets.defs.release.resources import ReleaseSettings

defs = dg.Definitions(
    assets=[release_fold_features, release_predictions, release_evaluation],
    jobs=[release_job],
    resources={"release_settings": ReleaseSettings()},
)
