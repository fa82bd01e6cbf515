"""J3 batch correction and the A1 ComBat / ISS-only variants (issue 21): assets.py, checks.py."""

import dagster as dg

from genebench_assets.defs.batch_correction.assets import (a1_iss_only_results, batch_corrected_features,
                                                           batch_correction_comparison, j3_batch_correction_summary)
from genebench_assets.defs.batch_correction.checks import batch_correction_test_labels_never_enter

defs = dg.Definitions(
    assets=[batch_corrected_features, batch_correction_comparison, a1_iss_only_results, j3_batch_correction_summary],
    asset_checks=[batch_correction_test_labels_never_enter],
)
