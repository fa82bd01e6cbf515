"""A linear probe on foundation-model embeddings, through the benchmark's folds and evaluation (issue 20).

A user runs a model (Geneformer, scGPT, ...) on the exported tokens and hands back one embedding row
per sample id (parquet: a ``sample_id`` column or index, numeric columns). ``probe_embeddings`` fits
StandardScaler -> LogisticRegression (L2, lbfgs, C 1, balanced, seed 42) on each fold's *training*
samples only and scores its test samples; ``lomo_evaluation.evaluate_predictions`` (the one evaluator)
then gives per-fold AUROC with bootstrap CI and permutation p, and the task summary. The published
Geneformer LOMO results of the GeneLab release (``geneformer_mouse_gf_<task>_lomo_results.json``) are
read from a path and shown beside it. Every refusal is one line (``InputFileError``). No Dagster import.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from genebench_assets.science.inputs.guarded_files import MB, InputFileError, load_json, read_bytes, short

MAX_EMBEDDINGS_BYTES = 500 * MB  # 10,000 samples x 1,024 float32 dims is ~40 MB
FEATURE_SET, MODEL = "embeddings", "embedding_probe"
SEED = 42
PROBE = ("StandardScaler -> LogisticRegression(L2, lbfgs, C 1, class_weight balanced, max_iter 5000, "
         "random_state 42), fitted on each fold's training samples only")
PUBLISHED_FILE = "geneformer_mouse_gf_{task}_lomo_results.json"


# ------------------------------------------------------------------------------------------ reading
def read_embeddings(path: str | Path, *, max_bytes: int = MAX_EMBEDDINGS_BYTES) -> pd.DataFrame:
    """samples x dims (float64, index ``sample_id``) from a parquet file, through the guarded reader;
    InputFileError (one line naming file, field and value) when it is not parquet, has no sample ids,
    repeats one, has a non-numeric column or a NaN / inf."""
    data = read_bytes(path, max_bytes=max_bytes, hint="raise it with --max-bytes")
    if len(data) < 12 or data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise InputFileError(path, "(file)", f"not a parquet file (starts with {short(data[:8])})")
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow's errors are many; any of them means an unreadable file
        raise InputFileError(path, "(file)", f"unreadable parquet: {' '.join(str(exc).split())[:200]}") from None
    if "sample_id" in frame.columns:
        frame = frame.set_index("sample_id")
    elif frame.index.name != "sample_id":
        raise InputFileError(path, "sample_id", f"no sample_id column or index; columns: {short(list(map(str, frame.columns)), 120)}")
    frame.index = frame.index.astype(str)
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        raise InputFileError(path, "sample_id", f"{len(dup)} repeated sample id(s), first {short(dup[0])}")
    if frame.shape[1] == 0:
        raise InputFileError(path, "(columns)", "no embedding columns beside sample_id")
    for col in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])):
            raise InputFileError(path, str(col)[:60], f"not numeric (dtype {frame[col].dtype})")
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputFileError(path, str(frame.columns[j])[:60],
                             f"{int(bad.sum())} non-finite value(s) (NaN/inf), first {values[i, j]} at sample {short(frame.index[i])}")
    out = pd.DataFrame(values, index=pd.Index(frame.index, name="sample_id"), columns=[str(c) for c in frame.columns])
    return out


def require_samples(emb: pd.DataFrame, folds: Sequence, source: str | Path = "embeddings") -> None:
    """Every training and test sample of every fold has an embedding row; else one line (how many, first)."""
    needed = list(dict.fromkeys(s for f in folds for s in (*f.train_ids, *f.test_ids)))
    missing = [s for s in needed if s not in emb.index]
    if missing:
        raise InputFileError(source, "sample_id", f"{len(missing)} of the task's {len(needed)} sample ids have no "
                                                  f"embedding row, first {short(missing[0])}")


# ------------------------------------------------------------------------------------------ probe
def _probe_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scaler", StandardScaler()),
                     ("clf", LogisticRegression(C=1.0, solver="lbfgs", class_weight="balanced", max_iter=5000,
                                                random_state=SEED))])


def probe_embeddings(emb: pd.DataFrame, folds: Sequence) -> pd.DataFrame:
    """Predictions rows (fold_id, feature_set, model, sample_id, score) for every fold's test samples:
    the probe is fitted on the fold's training rows and training labels only (test labels never read)."""
    require_samples(emb, folds)
    rows = []
    for fold in folds:
        X_train = emb.loc[list(fold.train_ids)].to_numpy()
        y_train = np.asarray(fold.y_train, dtype=np.float64).astype(int)
        X_test = emb.loc[list(fold.test_ids)].to_numpy()
        model = _probe_model().fit(X_train, y_train)
        scores = model.predict_proba(X_test)[:, list(model.classes_).index(1)]
        rows.append(pd.DataFrame({"fold_id": fold.fold_id, "feature_set": FEATURE_SET, "model": MODEL,
                                  "sample_id": list(fold.test_ids), "score": scores.astype(np.float64)}))
    return pd.concat(rows, ignore_index=True)


def evaluate_embeddings(emb: pd.DataFrame, folds: Sequence, *, protocol: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(predictions, per-fold metrics, task summary) of the probe, by ``lomo_evaluation.evaluate_predictions``."""
    from genebench_assets.science.evaluation.lomo_evaluation import evaluate_predictions

    preds = probe_embeddings(emb, folds)
    per_fold, tasks = evaluate_predictions(preds, list(folds), protocol=protocol)
    return preds, per_fold, tasks.iloc[0].to_dict()


# ------------------------------------------------------------------------------------------ published
def published_geneformer(published_dir: str | Path, task_id: str) -> dict | None:
    """The GeneLab release's Geneformer LOMO result for ``task_id`` (None when the file is absent):
    {model, tissue, mean_auroc, std_auroc, n_folds, folds: {fold_id: {auroc, ci_low, ci_high, n_train,
    n_test}}, source}. Read through the guarded reader."""
    from genebench_assets.science.inputs.guarded_files import LIMITS

    path = Path(published_dir) / PUBLISHED_FILE.format(task=task_id)
    if not path.is_file():
        return None
    d = load_json(path, max_bytes=LIMITS["manifest"])
    for key in ("mean_auroc", "fold_results"):
        if key not in d:
            raise InputFileError(path, key, "missing")
    folds = {}
    for i, f in enumerate(d["fold_results"]):
        if f.get("status", "ok") != "ok" or "fold" not in f:
            continue
        folds[str(f["fold"])] = {"auroc": f.get("best_test_auroc"), "ci_low": f.get("ci_low"),
                                 "ci_high": f.get("ci_high"), "n_train": f.get("n_train"), "n_test": f.get("n_test")}
    return {"model": d.get("model"), "tissue": d.get("tissue"), "mean_auroc": d["mean_auroc"],
            "std_auroc": d.get("std_auroc"), "n_folds": d.get("n_folds", len(folds)), "folds": folds,
            "source": str(path),
            "note": "fine-tuned Geneformer (mouse_gf) on the GeneLab release's real data; fold AUROC = best test epoch"}


def _f(v, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def render_table(result: dict) -> str:
    """The probe per fold beside the published Geneformer figures of the same fold id."""
    pub = result.get("published_geneformer") or {}
    pf = pub.get("folds", {})
    emb = result["embeddings"]
    lines = [f"{result['task_id']} ({result['tissue']}), protocol {result['protocol']}: embeddings probe - {PROBE}",
             f"embeddings: {emb['path']} sha256 {emb['sha256']} ({emb['n_samples']} samples x {emb['n_dims']} dims)",
             f"{'fold':<22} {'n_test (F/G)':>13} {'AUROC':>6} {'95% CI':>15} {'perm p':>7} | "
             f"{'published Geneformer AUROC':>26} {'95% CI':>15}"]
    for f in result["folds"]:
        p = pf.get(f["fold_id"], {})
        ci = f"[{_f(f['ci_lower'])}, {_f(f['ci_upper'])}]"
        pci = f"[{_f(p.get('ci_low'))}, {_f(p.get('ci_high'))}]" if p else "-"
        lines.append(f"{f['fold_id']:<22} {f['n_test']:>4} ({f['n_flight_test']}/{f['n_ground_test']}){'':>3} "
                     f"{_f(f['auroc']):>6} {ci:>15} {_f(f['perm_p']):>7} | {_f(p.get('auroc')):>26} {pci:>15}")
    s = result["summary"]
    pub_mean = (f"{_f(pub.get('mean_auroc'))} +/- {_f(pub.get('std_auroc'))} ({pub.get('n_folds')} folds)"
                if pub else "not found")
    lines.append(f"{'mean (LOMO folds)':<22} {'':>13} {_f(s['mean_auroc']):>6} "
                 f"(sd {_f(s['std_auroc'])}, {s['n_folds']} folds, GO {'yes' if s['go'] else 'no'}) | {pub_mean}")
    if pub:
        lines.append(f"published: {pub['model']} - {pub['note']} ({pub['source']})")
    else:
        lines.append(f"published Geneformer results: {result.get('published_note', 'not found')}")
    return "\n".join(lines)
