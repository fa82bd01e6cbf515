"""Where a model plug-in (science/models/plugins.py) runs, and where it is skipped and why (issue 20).

A plug-in is a binary classifier: it is fitted on training features with 0/1 labels and returns P(class 1)
of each test row (``predict_proba``). It runs on every task whose input is exactly that, through the same
fit path as the built-ins (fit_pool worker, label-blind test features, output validation, time limit);
tasks of another shape skip it and say so (asset metadata, ``genebench list models``, docs/models.md).

``PLUGIN_SCOPE``: (path, runs?, what / why) rows, the one table the CLI and the docs show.
``skip_note(path_prefix)``: the metadata line of an asset that never runs plug-ins.
``soma_skip_reason(task_type)``: why a SpaceOmicsBench task skips plug-ins (None: it runs them)."""

from __future__ import annotations

# (path, runs a plug-in?, what / why)
PLUGIN_SCOPE: tuple[tuple[str, bool, str], ...] = (
    ("A1-A6 LOMO (lomo_folds -> model_predictions -> evaluation_summary)", True,
     "every fold and feature set, positive control, label-blindness probe, lineage"),
    ("B1-B6 cross-mission pairs (transfer_pair_folds -> transfer_predictions -> transfer_evaluation)", True,
     "every ordered mission pair, feature set and seed, beside pca_lr and lfc_direction; positive control on one "
     "pair; label-blindness probe"),
    ("C1-C4 methods A and B, gene features (cross_tissue_gene_folds -> cross_tissue_gene_transfer)", True,
     "both methods and protocols, every seed, beside pca_lr; positive control on strict method A; "
     "label-blindness probe"),
    ("J5 gene vs pathway (j5_gene_vs_pathway)", True,
     "read from evaluation_summary: a plug-in that ran on Category A with both feature sets is in it"),
    ("SpaceOmicsBench binary tasks (C2, D1, E1-E4, F3, H1, I1-I3, B1)", True,
     "every fold and seed, on the baselines' preprocessed features; label-blindness probe; kept out of the "
     "published-layout leaderboard and composite"),
    ("C1-C4 method C on the release (cross_tissue_pathway_transfer)", False,
     "published-only comparison: rebuilds the published C file from the release's stored GSVA scores"),
    ("J5 pathway LOMO on the release (j5_pathway_lomo)", False,
     "published-only comparison: rebuilds the published J5 file from the release's stored GSVA scores"),
    ("D3-D6 condition prediction (condition_prediction_pathway / _genes)", False,
     "not a Flight vs Ground task: confounder classes (D3, D6 multi-class) scored by macro-F1 of predicted classes"),
    ("NC1 / NC2 negative controls, NES vs transfer", False,
     "controls of one configured built-in model (pca_lr) and a correlation of published-style summaries"),
    ("SpaceOmicsBench multi-class and multilabel tasks (A1, A2, B2, C1, F1, F2, F4, F5, G1)", False,
     "not a binary classification: a plug-in returns P(class 1) only"),
)


def soma_skip_reason(task_type: str) -> str | None:
    """Why a SpaceOmicsBench task of ``task_type`` skips plug-ins; None when it runs them."""
    if task_type == "binary_classification":
        return None
    return f"skipped: {task_type} is not a binary classification (a plug-in returns P(class 1) only)"


def skip_note(path_prefix: str) -> str:
    """``skipped: <why>`` of the PLUGIN_SCOPE row whose path starts with ``path_prefix`` (a skipped row)."""
    for path, runs, why in PLUGIN_SCOPE:
        if path.startswith(path_prefix) and not runs:
            return f"skipped: {why}"
    raise KeyError(f"no skipped plug-in path starts with {path_prefix!r}")
