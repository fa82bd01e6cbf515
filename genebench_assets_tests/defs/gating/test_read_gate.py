"""The read gate's wiring invariants (its behaviour is shown through the real graph in each domain's
planted-fault tests: a separate, later run of every reader is refused)."""

from __future__ import annotations


def test_every_check_of_a_partitioned_asset_is_partitioned_like_it():
    """The gate asks the instance for the check evaluations of one partition: a check declared without
    the asset's partitions is recorded without a partition, so its reader would be refused although it
    passed (six category checks were, until the gate showed it)."""
    from genebench_assets.definitions import defs

    graph = defs.get_repository_def().asset_graph
    unpartitioned = [spec.name for checks in defs.asset_checks or [] for spec in checks.check_specs
                     if graph.get(spec.asset_key).partitions_def is not None and checks.partitions_def is None]
    assert unpartitioned == []


def test_every_gated_asset_has_blocking_checks():
    """The assets whose readers call the gate are exactly those with blocking checks (else the gate only
    checks that the input was materialized)."""
    from genebench_assets.defs.gating.read_gate import blocking_checks

    gated = {"raw_counts", "sample_metadata", "lomo_folds", "transfer_pair_folds", "soma_split_folds",
             "cross_tissue_gene_folds", "cross_tissue_pathway_transfer", "condition_prediction_pathway",
             "condition_prediction_genes", "llm_question_bank", "text_llm_predictions"}
    assert gated <= set(blocking_checks()), sorted(gated - set(blocking_checks()))
