"""Gene-level SHAP of the random forest per LOMO fold (issue 21): ``A{n}_shap_rf.json`` and
``A4_shap_directions.json``.

How the seed made ``A*_shap_rf.json`` (GeneLab_benchmark ``scripts/shap_analysis.py``, read for this):

- per LOMO fold (``fold_*_test``; the holdout fold excluded, as by default), RF as SPEC §6
  (200 trees, max_features sqrt, class_weight balanced, random_state 42) fitted on the fold's
  ``train_X.csv`` - the variance-filtered genes z-scored with training statistics, cast to float32 -
  and ``shap.TreeExplainer`` on the fold's test samples; per gene the mean |SHAP| of the Flight class.
  No subsampling: every test sample, every gene of the fold;
- the folds' Series are joined on the union of their genes, a gene absent from a fold counts 0
  (``fillna(0)``), averaged over folds and sorted descending; the first ``top_n`` = 50 are written,
  keyed by symbol (``processed/ensembl_symbol_map.csv``; the Ensembl id where there is none);
- ``target_gene_ranks``: for each tissue target gene (``TARGET_GENES``, the seed's lists, duplicates
  by case removed) found among the ranked genes' symbols (case-insensitive), its first rank and
  whether it is in the top 50; genes not in the features are left out; ``condition3_pass`` = at least
  one target in the top 50.

``A4_shap_directions.json`` (the seed's code for it is not in its repository; PHASE1_RESULTS.md calls
the column "Δlog2 ... ↓Flight / ↑Flight"): per top-50 gene, rank, label as in ``top_genes``,
``delta`` = mean log2 normalized expression of Flight minus Ground rounded to 2 decimals,
``direction`` its sign (↑ / ↓) and ``target``. Our reading of the seed: Flight and Ground pooled over
every LOMO mission's binary samples.

Seed defects fixed in the ``strict`` protocol (SPEC §11), both computed in every run so the difference
is shown (``seed_vs_strict``):

1. ``top_genes`` is a dict keyed by symbol: two Ensembl ids with one symbol collapse into one entry
   (the later value at the earlier position, fewer than 50 genes). Strict keys the later one by its
   Ensembl id, as an unmapped gene is keyed.
2. Genes of equal mean |SHAP| (in practice every gene no tree used, mean 0) are ordered by an
   unstable sort, so a target gene's rank among them is arbitrary. Strict orders ties by Ensembl id
   and gives tied genes the same rank (1 + the number of genes with a larger mean |SHAP|).
3. A pooled Flight - Ground difference mixes missions (their batch effects weigh by each mission's
   share of Flight and Ground samples). Strict averages the per-mission differences.

XGBoost (``A{n}_shap_xgb.json``, ours: the seed's ``shap_analysis.py`` offers ``--model rf|lr`` only, so
it published no XGBoost SHAP; the name is its ``{task_id}_shap_{model}.json``): the same per-fold /
post-processing path with the XGBoost of SPEC §6 (``classifiers``, seed 42) on the same float32 inputs;
TreeExplainer's values are in log-odds (the RF's in P(Flight)), so the two models' mean |SHAP| are
compared by rank only (``models_agreement``).

PCA-LR (``A{n}_pca_lr_gene_coefficients.json``, ours): per fold the PCA-LR of SPEC §6 fitted on the fold's
training rows, its logistic coefficients mapped back from PCA space to genes (``coef @ components / scale``,
per unit of log2 expression), as the published ``A6_pathway_hallmark_shap.json`` does for pathways
(``interpretability.pca_lr_feature_coefficients``, the same function); mean and mean |coefficient| over
folds, top genes by mean |coefficient|, rank agreement across folds. A fold without a gene counts 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genebench_assets.science.analyses import interpretability as interp
from genebench_assets.science.models import classifiers as models

MODEL = "rf"
MODELS = ("rf", "xgb")  # tree models explained per fold; the directions file follows MODEL's top genes
TOP_N = 50
UP, DOWN = "\u2191", "\u2193"
TARGETS_SOURCE = "GeneLab_benchmark scripts/shap_analysis.py TARGET_GENES (MIT)"

# The seed's tissue target genes (TARGETS_SOURCE), with its spellings; matched case-insensitively.
TARGET_GENES: dict[str, tuple[str, ...]] = {
    "liver": ("Angptl4", "ANGPTL4", "angptl4", "Pck1", "PCK1", "pck1", "G6pc", "G6PC", "Fasn", "FASN",
              "Ppara", "PPARA", "Acox1", "ACOX1", "Cyp7a1", "CYP7A1", "Hmgcr", "HMGCR", "Scd1", "SCD1"),
    "thymus": ("Lef1", "Ikzf2", "Rag1", "Rag2", "Il7r", "Ccr7", "Foxn1", "Dntt", "Ptcra", "Cd4", "Cd8a", "Bcl2",
               "Maf", "Btla", "Gzma", "Brca1", "Msh6", "Trbv12-1", "H2ac12", "H2ac22", "Apoe", "Apod", "Trp63"),
    "gastrocnemius": ("Fbxo32", "Trim63", "Mstn", "Foxo3", "Igf1", "Klf15", "Myog", "Myh7", "Myh4", "Bmal1", "Per2",
                      "Dbp", "Ciart", "Hmox1", "Sod2", "Ppargc1a"),
    "kidney": ("Havcr1", "HAVCR1", "Lcn2", "LCN2", "Vim", "VIM", "Fn1", "FN1", "Tgfb1", "TGFB1", "Acta2", "ACTA2"),
    "eye": ("Rho", "RHO", "Pde6b", "PDE6B", "Rdh12", "RDH12", "Vegfa", "VEGFA", "Hif1a", "HIF1A", "Sod2", "SOD2",
            "Txnip", "TXNIP"),
}


def shap_filename(task_id: str, model: str = MODEL) -> str:
    """The seed's name (shap_analysis.py): ``{task_id}_shap_{model}.json``."""
    return f"{task_id}_shap_{model}.json"


def directions_filename(task_id: str) -> str:
    return f"{task_id}_shap_directions.json"


def unique_targets(tissue: str) -> list[str]:
    """The tissue's target genes, first spelling of each (case-insensitive), in the seed's order."""
    seen: dict[str, str] = {}
    for gene in TARGET_GENES.get(tissue, ()):
        seen.setdefault(gene.lower(), gene)
    return list(seen.values())


def fold_shap(X_train: pd.DataFrame, y_train, X_test: pd.DataFrame, *, name: str, model: str = MODEL,
              seed: int = models.DEFAULT_SEED) -> pd.Series:
    """One fold: mean |SHAP| (Flight) per gene of the tree model (RF, XGBoost) fitted on the fold's
    training rows, over its test samples; float32 inputs as the seed (both models split on float32)."""
    values = interp.tree_shap(X_train.astype(np.float32), y_train, X_test.astype(np.float32), model=model, seed=seed)
    return values.rename(name)


PCA_LR_NOTE = "Coefficients mapped back from PCA space to original gene space (mean across folds)"


def pca_lr_gene_filename(task_id: str) -> str:
    return f"{task_id}_pca_lr_gene_coefficients.json"


def fold_pca_lr_coefficients(X_train: pd.DataFrame, y_train, *, name: str, seed: int = models.DEFAULT_SEED) -> pd.Series:
    """One fold: the SPEC §6 PCA-LR fitted on the fold's training rows, its coefficients mapped back to genes."""
    return interp.pca_lr_feature_coefficients(X_train, y_train, model="pca_lr", seed=seed).rename(name)


def pca_lr_gene_document(per_fold: list[pd.Series], *, task_id: str, tissue: str, symbols: dict,
                         top_n: int = TOP_N) -> dict:
    """``A{n}_pca_lr_gene_coefficients.json``: top genes by mean |coefficient| over folds (mean and mean
    |coefficient| each; the sign is Flight's), and the folds' rank agreement. Genes keyed by symbol, an
    unmapped or colliding symbol by its Ensembl id (no entry is lost: the strict labels)."""
    coefs = pd.concat(per_fold, axis=1).fillna(0.0).T  # folds x genes
    summary = interp.coefficient_summary(coefs, task=task_id, db="genes", model_label="PCA-LR genes")
    top = summary["pathways"][:top_n]  # coefficient_summary's feature list (named for its pathway layout)
    labels = gene_labels([t["pathway"] for t in top], symbols, protocol="strict")
    return {"task_id": task_id, "tissue": tissue, "model": "pca_lr", "note": PCA_LR_NOTE, "top_n": top_n,
            "n_folds": int(len(per_fold)),
            "top_genes": {label: {"ensembl": t["pathway"], "mean_coef": t["mean_coef"], "abs_mean_coef": t["abs_mean_coef"]}
                          for label, t in zip(labels, top)},
            "rank_agreement": interp.rank_agreement(coefs)}


def ranked_mean(per_fold: list[pd.Series] | pd.DataFrame, *, protocol: str) -> tuple[pd.DataFrame, pd.Series]:
    """(folds x genes with 0 where a fold lacks a gene, mean over folds sorted descending). seed: the
    seed's ``concat(...).fillna(0).mean(axis=1).sort_values(ascending=False)``; strict: ties by gene id.
    ``per_fold``: one Series per fold, or a folds x features frame."""
    if isinstance(per_fold, pd.DataFrame):
        per_fold = [row for _, row in per_fold.iterrows()]
    frame = pd.concat(per_fold, axis=1).fillna(0.0)
    mean = frame.mean(axis=1)
    if protocol == "seed":
        ranked = mean.sort_values(ascending=False)
    else:
        ranked = mean.iloc[np.lexsort((mean.index.to_numpy(dtype=str), -mean.to_numpy()))]
    return frame.T, ranked


def gene_labels(ids, symbols: dict, *, protocol: str) -> list[str]:
    """Symbol, or the Ensembl id where unmapped. strict: a symbol already used by an earlier gene gives
    the later gene its Ensembl id (seed: the same symbol twice, which collapses in a dict)."""
    labels, used = [], set()
    for g in ids:
        label = str(symbols.get(g, g))
        if protocol != "seed" and label in used:
            label = str(g)
        used.add(label)
        labels.append(label)
    return labels


def target_gene_ranks(ranked: pd.Series, symbols: dict, tissue: str, *, protocol: str,
                      top_n: int = TOP_N) -> tuple[dict, bool]:
    """({target: {rank, in_top_n}} for targets among the ranked genes, condition3_pass)."""
    first: dict[str, int] = {}
    for i, g in enumerate(ranked.index):
        first.setdefault(str(symbols.get(g, g)).lower(), i)
    values = ranked.to_numpy()
    out = {}
    for target in unique_targets(tissue):
        i = first.get(target.lower())
        if i is None:
            continue
        rank = i + 1 if protocol == "seed" else int((values > values[i]).sum()) + 1
        out[target] = {"rank": rank, "in_top_n": rank <= top_n}
    return out, any(r["in_top_n"] for r in out.values())


def shap_rf_document(ranked: pd.Series, *, task_id: str, tissue: str, n_folds: int, symbols: dict, protocol: str,
                     top_n: int = TOP_N, model: str = MODEL, targets: bool = True) -> dict:
    """``A{n}_shap_rf.json``, keys in the published order. ``targets=False`` (features that are not
    genes, e.g. pathways): without the target-gene fields."""
    top = ranked.head(top_n)
    labels = gene_labels(top.index, symbols, protocol=protocol)
    doc = {"task_id": task_id, "tissue": tissue, "model": model, "top_n": top_n, "n_folds": int(n_folds),
           "top_genes": {label: {"ensembl": str(g), "mean_abs_shap": float(v)}
                         for label, (g, v) in zip(labels, top.items())}}
    if targets:
        ranks, passed = target_gene_ranks(ranked, symbols, tissue, protocol=protocol, top_n=top_n)
        doc.update(target_gene_ranks=ranks, condition3_pass=bool(passed))
    return doc


def expression_deltas(expression: pd.DataFrame, genes, missions: dict[str, pd.Series], *,
                      protocol: str) -> pd.DataFrame:
    """Mean log2 expression Flight minus Ground per gene: column ``delta`` (seed: pooled over the
    missions' samples; strict: mean of the per-mission differences) and one column per mission.
    ``missions``: mission -> labels (1.0 Flight, 0.0 Ground) indexed by sample id."""
    genes = list(genes)
    block = expression.reindex(genes)

    def diff(labels: pd.Series) -> pd.Series:
        flight = [str(s) for s, y in labels.items() if y == 1.0]
        ground = [str(s) for s, y in labels.items() if y == 0.0]
        return block[flight].mean(axis=1) - block[ground].mean(axis=1)

    out = pd.DataFrame({m: diff(labels) for m, labels in missions.items()}, index=genes)
    pooled = diff(pd.concat(list(missions.values())))
    out.insert(0, "delta", pooled if protocol == "seed" else out[list(missions)].mean(axis=1))
    return out


def directions_document(shap_doc: dict, deltas: pd.Series, tissue: str) -> list[dict]:
    """``A4_shap_directions.json``: per top gene (in rank order) rank, gene, direction, delta, target."""
    targets = {t.lower() for t in TARGET_GENES.get(tissue, ())}
    rows = []
    for rank, (label, entry) in enumerate(shap_doc["top_genes"].items(), start=1):
        d = float(deltas[entry["ensembl"]])
        rows.append({"rank": rank, "gene": label, "direction": UP if d > 0 else DOWN,
                     "delta": None if np.isnan(d) else round(d, 2), "target": label.lower() in targets})
    return rows


def gene_shap_result(per_fold: list[pd.Series], *, expression: pd.DataFrame, missions: dict[str, pd.Series],
                     symbols: dict, task_id: str, tissue: str, protocol: str, top_n: int = TOP_N,
                     model: str = MODEL) -> dict:
    """Everything the asset writes for one model: ``A{n}_shap_{model}.json`` (``shap_doc``) and the
    directions of its top genes under ``protocol``, the per-fold values of the top genes, the rank
    agreement across folds, and what the strict fixes change here."""
    docs = {}
    for p in ("seed", "strict"):
        frame, ranked = ranked_mean(per_fold, protocol=p)
        doc = shap_rf_document(ranked, task_id=task_id, tissue=tissue, n_folds=len(per_fold), symbols=symbols,
                               protocol=p, top_n=top_n, model=model)
        deltas = expression_deltas(expression, [e["ensembl"] for e in doc["top_genes"].values()], missions, protocol=p)
        docs[p] = (frame, ranked, doc, deltas, directions_document(doc, deltas["delta"], tissue))
    frame, ranked, doc, deltas, directions = docs[protocol]
    seed, strict = docs["seed"], docs["strict"]
    top_ids = [e["ensembl"] for e in doc["top_genes"].values()]
    agreement = {**interp.rank_agreement(frame, top=10),
                 f"top{top_n}_overlap": interp.rank_agreement(frame, top=top_n)[f"top{top_n}_overlap"]}
    return {
        "model": model, "shap_doc": doc, "directions": directions,
        "per_fold_top": {str(f): {g: float(frame.loc[f, g]) for g in top_ids} for f in frame.index},
        "per_mission_delta": {g: {m: (None if np.isnan(v) else float(v)) for m, v in deltas.loc[g, list(missions)].items()}
                              for g in top_ids},
        "rank_agreement": agreement, "n_genes_ranked": int(len(ranked)),
        "n_genes_zero_shap": int((ranked == 0).sum()),
        "seed_vs_strict": {
            "top_genes_entries": {"seed": len(seed[2]["top_genes"]), "strict": len(strict[2]["top_genes"])},
            "symbol_collisions": sorted(_duplicates(gene_labels(seed[1].head(top_n).index, symbols, protocol="seed"))),
            "target_ranks": {t: {"seed": seed[2]["target_gene_ranks"][t]["rank"],
                                 "strict": strict[2]["target_gene_ranks"].get(t, {}).get("rank")}
                             for t in seed[2]["target_gene_ranks"]},
            "direction_flips": [r["gene"] for r, s in zip(seed[4], strict[4])
                                if r["gene"] == s["gene"] and r["direction"] != s["direction"]],
        },
    }


def models_agreement(per_fold_by_model: dict[str, list[pd.Series]], *, top_n: int = TOP_N) -> dict:
    """How far the models agree on the genes: Spearman of their mean |SHAP| over folds (genes of every
    model's folds, 0 where a model's folds lack one) and the overlap of their top 10 / top ``top_n``.
    By rank only: RF explains P(Flight), XGBoost log-odds."""
    means = pd.DataFrame({m: ranked_mean(folds, protocol="strict")[1] for m, folds in per_fold_by_model.items()}).T
    means = means.fillna(0.0)
    out = {**interp.rank_agreement(means, top=10), f"top{top_n}_overlap": interp.rank_agreement(means, top=top_n)[f"top{top_n}_overlap"]}
    out["models"] = list(per_fold_by_model)
    out.pop("n_folds")
    if "n_constant_folds" in out:
        out["n_constant_models"] = out.pop("n_constant_folds")
    return out


def _duplicates(labels: list[str]) -> set[str]:
    seen, dup = set(), set()
    for lab in labels:
        (dup if lab in seen else seen).add(lab)
    return dup


def layout_differences(ours, published, path: str = "") -> list[str]:
    """Where ``ours`` differs from ``published`` in structure: key sets and order of fixed-key objects,
    value types, list element layout. Mapping keys that are data (gene symbols) are not compared,
    their values' layout is (the first entry of each side)."""
    data_keyed = {"top_genes", "target_gene_ranks"}
    if isinstance(published, dict):
        if not isinstance(ours, dict):
            return [f"{path or 'root'}: {type(ours).__name__} != published dict"]
        if path.rsplit(".", 1)[-1] in data_keyed:
            a, b = next(iter(ours.values()), None), next(iter(published.values()), None)
            return [] if a is None or b is None else layout_differences(a, b, f"{path}.<gene>")
        if list(ours) != list(published):
            return [f"{path or 'root'}: keys {list(ours)} != published {list(published)}"]
        return [d for k in published for d in layout_differences(ours[k], published[k], f"{path}.{k}" if path else k)]
    if isinstance(published, list):
        if not isinstance(ours, list):
            return [f"{path}: {type(ours).__name__} != published list"]
        return [] if not ours or not published else layout_differences(ours[0], published[0], f"{path}[0]")
    number = (int, float)
    same = (isinstance(ours, bool) == isinstance(published, bool)) and (
        isinstance(ours, type(published)) or (isinstance(ours, number) and isinstance(published, number)))
    return [] if same else [f"{path}: {type(ours).__name__} != published {type(published).__name__}"]


def top_features_table(doc: dict, directions: list[dict]) -> pd.DataFrame:
    """rank, gene, Ensembl id, mean |SHAP|, delta, direction, target (for the UI)."""
    rows = [{"rank": d["rank"], "gene": label, "ensembl": e["ensembl"], "mean_abs_shap": f"{e['mean_abs_shap']:.3g}",
             "delta": d["delta"], "direction": d["direction"], "target": d["target"]}
            for (label, e), d in zip(doc["top_genes"].items(), directions)]
    return pd.DataFrame(rows).set_index("rank")


def signed_top(doc: dict, directions: list[dict]) -> pd.Series:
    """mean |SHAP| of the top genes signed by their direction (Flight - Ground), indexed by label: the plot."""
    return pd.Series([e["mean_abs_shap"] * (1 if d["direction"] == UP else -1)
                      for e, d in zip(doc["top_genes"].values(), directions)], index=list(doc["top_genes"]))
