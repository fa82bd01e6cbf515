"""Category B cross-mission transfer and the negative controls NC1 / NC2 (SPEC §8, issue 11)."""

import dagster as dg

from genebench_assets.defs.transfer.assets import (negative_controls, nes_conservation_vs_b_transfer,
                                                   transfer_evaluation, transfer_pair_folds, transfer_predictions)
from genebench_assets.defs.transfer.jobs import TRANSFER_JOBS
from genebench_assets.defs.transfer.checks import (nc1_null_centred_on_half, nc2_housekeeping_within_interval,
                                                   transfer_pairs_class_minimums, transfer_pairs_train_test_disjoint)

defs = dg.Definitions(
    assets=[transfer_pair_folds, transfer_predictions, transfer_evaluation, negative_controls,
            nes_conservation_vs_b_transfer],
    asset_checks=[transfer_pairs_train_test_disjoint, transfer_pairs_class_minimums, nc1_null_centred_on_half,
                  nc2_housekeeping_within_interval],
    jobs=TRANSFER_JOBS,  # run by `genebench materialize --categories`
)
