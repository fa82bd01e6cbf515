"""GeneLab text-LLM track (SPEC §10): per test sample a prompt of its top-N genes (train-standardized,
among the fold's variance-selected genes); the model answers A (Flight) or B (Ground) with a
confidence; the answers become a normal Category A submission, scored by the Category A evaluator."""

import os

import dagster as dg

from genebench_assets.defs.lineage.code_versions import code_version_of
from genebench_assets.defs.lineage.provenance import gene_sets_upstream, provenance_metadata
from genebench_assets.defs.llm.resources import AnthropicResource
from genebench_assets.defs.runtime.partitions import tissue_partitions
from genebench_assets.defs.pathways.resources import GeneSetSettings
from genebench_assets.defs.runtime.settings import GenebenchSettings
from genebench_assets.defs.sources.resources import OsdrSource
from genebench_assets.defs.tasks.assets import lomo_folds
from genebench_assets.defs.expression.assets import normalized_expression
from genebench_assets.defs.pathways.assets import gene_sets
from genebench_assets.defs.runtime.partitions import by_tissue
from genebench_assets.defs.sources.assets import raw_counts, sample_metadata
from genebench_assets.defs.gating.tissue_inputs import load_tissue, lomo_folds_data_version, read_checked_folds


def task_folds_from_ours(task_id: str, folds):
    from genebench_assets.science.tasks.folds import fold_test_labels
    from genebench_assets.science.evaluation.submission import FoldSpec, TaskFolds

    specs = []
    for f in folds:
        y = fold_test_labels(f)
        specs.append(FoldSpec(fold_id=f.fold_id, test_mission=f.test_mission, train_ids=tuple(f.train_ids),
                              test_ids=tuple(y.index), test_labels=tuple(float(v) for v in y.to_numpy()),
                              optional=f.fold_id.endswith("_holdout")))
    return TaskFolds(task_id=task_id, folds=tuple(sorted(specs, key=lambda s: s.fold_id)))


@dg.asset(
    code_version=code_version_of(__file__, "text_llm_predictions"),
    group_name="llm",
    partitions_def=tissue_partitions,
    # folds; each study's expression and metadata (load_tissue); the symbol map of the gene sets
    deps=[lomo_folds, gene_sets,
          *(dg.AssetDep(a, partition_mapping=by_tissue) for a in (normalized_expression, sample_metadata, raw_counts))],
    description="SPEC §10 text-LLM track: prompts per test sample from the fold's training-only gene "
    "ranking, zero- or few-shot (examples from training samples only), answers parsed into P(Flight), "
    "written as a Category A submission and scored by the Category A evaluator. Needs ANTHROPIC_API_KEY.",
)
def text_llm_predictions(context: dg.AssetExecutionContext, settings: GenebenchSettings, anthropic: AnthropicResource,
                         gene_set_settings: GeneSetSettings, osdr_source: OsdrSource) -> dg.MaterializeResult:
    from genebench_assets.defs.pathways.assets import load_gene_sets
    from genebench_assets.science.tasks.folds import fold_matrices
    from genebench_assets.science.llm.anthropic_calls import ResponseCache, text_track_asker
    from genebench_assets.science.llm.failure_policy import LlmFailureError
    from genebench_assets.science.llm.text_track import make_submission, predict_fold, prompts_markdown
    from genebench_assets.science.evaluation.submission import check_submission, render_score_table, score_submission
    from genebench_assets.science.protocols import submission_randomness

    tissue = context.partition_key
    k_shot = int(os.environ.get("GENEBENCH_TEXT_LLM_SHOTS", "0"))
    catalog = settings.catalog()
    store = settings.table_store()
    folds = read_checked_folds(context, store, tissue)  # the read gate first (gating/read_gate.py)
    data = load_tissue(store, catalog, tissue)
    _, symbol_map, _ = load_gene_sets(settings, gene_set_settings, osdr_source)
    symbols = symbol_map.to_dict()
    # Failed calls and unparsed replies fail the asset beyond the allowed share (default 0), once,
    # with the first cause; a hard error (no network, bad key) stops at the first call (issue 10).
    tally = anthropic.failure_tally(f"text_llm_predictions {tissue} ({anthropic.model})",
                                    sum(len(f.test_ids) for f in folds))
    ask = text_track_asker(anthropic.client(), model=anthropic.model, temperature=anthropic.temperature,
                           cache=ResponseCache(settings.path("llm_cache")), tally=tally)
    predictions, examples, first_prompts, unparsed = {}, {}, None, 0
    try:
        for fold in folds:
            X_train, y_train, X_test = fold_matrices(fold, data.expression)  # no test labels here
            fp = predict_fold(X_train, y_train, X_test, symbols, ask, k_shot=k_shot, tissue=tissue)
            predictions[fold.fold_id] = fp.probabilities
            examples[fold.fold_id] = fp.example_ids
            unparsed += fp.n_unparsed
            first_prompts = first_prompts or fp.prompts
            context.log.info(f"{tissue} {fold.fold_id}: {len(fp.probabilities)} samples, {fp.n_unparsed} unparsed")
        tally.check()
    except LlmFailureError as exc:
        raise dg.Failure(description=str(exc), metadata=tally.metadata(), allow_retries=False) from None
    model_name = f"text-llm-{anthropic.model}-{k_shot}shot".replace("/", "-")[:50]
    submission = make_submission(catalog.task_ids[tissue], model_name, predictions)
    task = task_folds_from_ours(catalog.task_ids[tissue], folds)
    check_submission(submission, task)
    result = score_submission(submission, task, randomness=submission_randomness(settings.protocol))
    store.write_json(submission, "text_llm_predictions", tissue, "submission")
    _, sha = store.write_json({"few_shot_examples": examples, "score": result, "n_unparsed": unparsed},
                              "text_llm_predictions", tissue)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(sha[:16]),
        metadata={"model": anthropic.model, "k_shot": k_shot, "n_unparsed": unparsed,
                  "n_api_failed": tally.n_api_failed, "max_failure_share": tally.max_share,
                  "score": dg.MetadataValue.md(render_score_table(result)),
                  "prompts_first_fold": dg.MetadataValue.md(prompts_markdown(first_prompts or {})),
                  "few_shot_examples": dg.MetadataValue.json(examples),
                  **provenance_metadata(
                      upstream=[{"asset": "lomo_folds", "partition": tissue,
                                 "data_version": lomo_folds_data_version(store, tissue)},
                                *data.upstream, gene_sets_upstream(store)],
                      raw_files=data.raw_files, protocol=settings.protocol,
                      extra={"llm": {"model": anthropic.model, "k_shot": k_shot}})})


@dg.asset_check(asset=text_llm_predictions, blocking=True, partitions_def=tissue_partitions,
                description="Few-shot examples come from each fold's training samples only.")
def text_llm_examples_from_training_only(context, settings: GenebenchSettings):
    from genebench_assets.defs.gating.check_results import to_check_result
    from genebench_assets.science.check_outcome import CheckOutcome
    from genebench_assets.science.tasks.folds import Fold
    from genebench_assets.science.tasks.leakage_checks import text_llm_examples_from_train_only

    store = settings.table_store()
    tissue = context.partition_key
    folds = {d["fold_id"]: Fold.from_dict(d) for d in store.read_json("lomo_folds", tissue)}
    examples = store.read_json("text_llm_predictions", tissue)["few_shot_examples"]
    outcomes = [text_llm_examples_from_train_only(ids, folds[fid]) for fid, ids in examples.items()]
    return to_check_result(CheckOutcome(
        passed=all(o.passed for o in outcomes), description="few-shot example ids vs each fold's training ids",
        metadata={"n_examples": sum(len(v) for v in examples.values())},
        failures=[f for o in outcomes for f in (o.failures or [])]))


# Registered by definitions.py, not by the llm package's own `defs`: this asset needs the
# benchmark's resources (settings, gene sets, source), which the standalone LLM defs do not carry.
text_track_defs = dg.Definitions(assets=[text_llm_predictions], asset_checks=[text_llm_examples_from_training_only])
