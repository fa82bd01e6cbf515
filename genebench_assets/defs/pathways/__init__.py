import dagster as dg

from genebench_assets.defs.pathways.assets import (
    differential_expression, gene_sets, nes_conservation, pathway_nes, pathway_scores)

defs = dg.Definitions(assets=[gene_sets, pathway_scores, differential_expression, pathway_nes, nes_conservation])
