"""Leaderboards of the results records beside the published baselines (issue 20, docs/results.md)."""

import dagster as dg

from genebench_assets.defs.results import assets

defs = dg.Definitions(assets=[assets.genelab_leaderboard, assets.spaceomicsbench_results_leaderboard])
