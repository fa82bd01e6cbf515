import dagster as dg

from genebench_assets.defs.evaluation.assets import evaluation_controls_bracket, evaluation_summary

defs = dg.Definitions(assets=[evaluation_summary], asset_checks=[evaluation_controls_bracket])
