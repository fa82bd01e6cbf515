"""AUROC, bootstrap CI and permutation p-value, vectorized over many draws (SPEC §7).

Why the AUROC here is not just ``U / (n1 * n0)``
------------------------------------------------
The Mann-Whitney form (ranks with midranks for ties) gives the exact rational AUROC, and
``auroc_rank`` returns it correctly rounded. ``sklearn.metrics.roc_auc_score`` computes the same
rational number through a trapezoid sum over the ROC curve, in floating point, and in about a
third of cases lands one ulp away. That ulp matters for reproduction: the permutation test counts
``null >= observed`` and the null often *equals* the observed AUROC (small test sets), so a
one-ulp difference flips counts and changes published p-values. ``auroc`` / ``auroc_rows``
therefore work from the same sort (tie groups = midrank groups) but replay sklearn's exact float
operations: thresholds at distinct scores, collinear points dropped (``drop_intermediate``),
``fpr = fps / fps[-1]``, trapezoid terms ``d * (y1 + y0) / 2.0`` summed with numpy's pairwise
summation. The results are bit-identical to ``roc_auc_score`` (tested), for a 2-D batch at once.

Randomness options (SPEC §7)
----------------------------
- ``"seed_randomstate"``: the published pathway-LOMO scripts: a fresh ``RandomState(42)`` for the
  bootstrap (``randint(0, n, n)`` per draw) and another for the permutations (``permutation(y)``).
- ``"seed_default_rng"``: the published submission evaluator: fresh ``default_rng(42)`` for each,
  ``integers(0, n, n)`` / ``permutation(y)``.
- ``"strict"``: independent streams per fold (and per purpose) from one ``SeedSequence(42)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANDOMNESS_MODES = ("seed_randomstate", "seed_default_rng", "strict")
DEFAULT_SEED = 42


# --------------------------------------------------------------------------------------------
# numpy's pairwise summation, replayed on equal-length rows (so the float result is identical)
# --------------------------------------------------------------------------------------------

def _pairwise_sum_rows(a: np.ndarray) -> np.ndarray:
    """Row sums of a (B, m) array with the exact operation order of numpy's ``np.sum`` on each
    row (``pairwise_sum`` in numpy's loops: 8 accumulators up to 128 items, halving above)."""
    b, m = a.shape
    if m < 8:
        res = np.full(b, -0.0)
        for i in range(m):
            res = res + a[:, i]
        return res
    if m <= 128:
        full = m - m % 8
        r = a[:, :8].copy()
        for i in range(8, full, 8):
            r += a[:, i:i + 8]
        res = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
        for i in range(full, m):
            res = res + a[:, i]
        return res
    n2 = m // 2
    n2 -= n2 % 8
    return _pairwise_sum_rows(a[:, :n2]) + _pairwise_sum_rows(a[:, n2:])


def _compact_left(mask: np.ndarray, values: list[np.ndarray], fill_last: bool = True) -> list[np.ndarray]:
    """Move the entries where ``mask`` is True to the left of each row (order kept); pad each row
    with its last kept value (or 0). Returns the compacted arrays."""
    b, n = mask.shape
    count = mask.sum(axis=1)
    pos = np.cumsum(mask, axis=1) - 1
    rows = np.broadcast_to(np.arange(b)[:, None], (b, n))
    out = []
    for v in values:
        c = np.zeros((b, n), dtype=np.float64)
        c[rows[mask], pos[mask]] = v[mask]
        if fill_last:
            last = c[np.arange(b), np.maximum(count - 1, 0)]
            pad = np.arange(n)[None, :] >= count[:, None]
            c = np.where(pad, last[:, None], c)
        out.append(c)
    return out


def threshold_counts(ys: np.ndarray, ss: np.ndarray):
    """From rows sorted by descending score: cumulative (fps, tps) at each distinct score (ties are
    one threshold, as scikit-learn's ``_binary_clf_curve``), left-compacted; the number of thresholds
    per row; and the number of positives per row. Shared by the ROC and precision-recall curves."""
    b, n = ss.shape
    tps_all = np.cumsum(ys, axis=1)
    end = np.ones((b, n), dtype=bool)
    end[:, :-1] = ss[:, :-1] != ss[:, 1:]            # last index of each tie group = a threshold
    fps_all = (np.arange(n, dtype=np.float64) + 1.0)[None, :] - tps_all
    fps, tps = _compact_left(end, [fps_all, tps_all])
    return fps, tps, end.sum(axis=1), tps_all[:, -1]


def _sorted_curve(ys: np.ndarray, ss: np.ndarray):
    """From rows sorted by descending score: per-row ROC points (fps, tps) after sklearn's
    ``drop_intermediate``, left-compacted, and the number of kept points per row."""
    b, n = ss.shape
    fps, tps, n_thr, _ = threshold_counts(ys, ss)
    # drop_intermediate: drop a middle point when both second differences are 0 (collinear)
    j = np.arange(n)[None, :]
    d2f = np.zeros((b, n))
    d2t = np.zeros((b, n))
    if n >= 3:
        d2f[:, 1:-1] = (fps[:, 2:] - fps[:, 1:-1]) - (fps[:, 1:-1] - fps[:, :-2])
        d2t[:, 1:-1] = (tps[:, 2:] - tps[:, 1:-1]) - (tps[:, 1:-1] - tps[:, :-2])
    middle = (j >= 1) & (j <= n_thr[:, None] - 2)
    keep = (j < n_thr[:, None]) & ~(middle & (d2f == 0) & (d2t == 0))
    fps_k, tps_k = _compact_left(keep, [fps, tps])
    return fps_k, tps_k, keep.sum(axis=1)


def _auroc_sorted(ys: np.ndarray, ss: np.ndarray) -> np.ndarray:
    """sklearn-identical AUROC for rows already sorted by descending score. NaN for rows with
    a single class (sklearn returns NaN with a warning there)."""
    b, n = ss.shape
    fps, tps, n_kept = _sorted_curve(ys, ss)
    last = n_kept - 1
    n_neg = fps[np.arange(b), last]
    n_pos = tps[np.arange(b), last]
    zeros = np.zeros((b, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = np.hstack([zeros, fps / n_neg[:, None]])   # sklearn prepends the (0, 0) point
        tpr = np.hstack([zeros, tps / n_pos[:, None]])
    terms = (fpr[:, 1:] - fpr[:, :-1]) * (tpr[:, 1:] + tpr[:, :-1]) / 2.0
    out = np.full(b, np.nan)
    valid = (n_neg > 0) & (n_pos > 0)
    for m in np.unique(n_kept[valid]):          # rows of equal length sum in one pass
        rows = np.flatnonzero(valid & (n_kept == m))
        out[rows] = _pairwise_sum_rows(terms[rows, :m])
    return out


def _as_labels(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 (Ground) or 1 (Flight)")
    return y


def _as_scores(s, n: int) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"scores must have shape ({n},), got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    return s


def auroc_rows(Y: np.ndarray, S: np.ndarray) -> np.ndarray:
    """AUROC of every row of labels ``Y`` (B, n) against scores ``S`` ((B, n) or shared (n,)),
    bit-identical to calling ``roc_auc_score`` on each row (NaN where a row has one class)."""
    Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
    S = np.asarray(S, dtype=np.float64)
    if S.ndim == 1:                      # shared scores (permutation test): sort once
        order = np.argsort(-S, kind="stable")
        ss = np.broadcast_to(S[order], Y.shape)
        ys = Y[:, order]
    else:
        order = np.argsort(-S, axis=1, kind="stable")
        ss = np.take_along_axis(S, order, axis=1)
        ys = np.take_along_axis(Y, order, axis=1)
    return _auroc_sorted(ys, np.ascontiguousarray(ss))


def auroc(y, s) -> float:
    """AUROC of one set of labels (1 = Flight) and scores, identical to ``roc_auc_score``."""
    y = _as_labels(y)
    s = _as_scores(s, len(y))
    if len(np.unique(y)) < 2:
        raise ValueError("AUROC needs both classes in the labels")
    return float(auroc_rows(y[None, :], s)[0])


def auroc_rank(y, s) -> float:
    """Mann-Whitney AUROC from midranks: (sum of Flight ranks - n1 (n1 + 1) / 2) / (n1 n0),
    the exact rational value correctly rounded (may differ from sklearn by one ulp; see module doc)."""
    from scipy.stats import rankdata

    y = _as_labels(y)
    s = _as_scores(s, len(y))
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError("AUROC needs both classes in the labels")
    r2 = (2 * rankdata(s)).astype(np.int64)      # twice the midranks: integers
    u2 = int(r2[y == 1].sum()) - n1 * (n1 + 1)
    return u2 / (2 * n1 * n0)


def roc_curve_points(y, s) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) points of the ROC curve as sklearn's ``roc_curve`` gives them, for plotting."""
    y = _as_labels(y)
    s = _as_scores(s, len(y))
    order = np.argsort(-s, kind="stable")
    fps, tps, n_kept = _sorted_curve(y[order][None, :], s[order][None, :])
    m = int(n_kept[0])
    fps = np.r_[0.0, fps[0, :m]]
    tps = np.r_[0.0, tps[0, :m]]
    return fps / fps[-1], tps / tps[-1]


# --------------------------------------------------------------------------------------------
# randomness
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Randomness:
    """Which random streams a fold's bootstrap and permutation test use (see module doc)."""

    mode: str = "seed_randomstate"
    seed: int = DEFAULT_SEED
    fold_index: int = 0      # only used by "strict"

    def __post_init__(self):
        if self.mode not in RANDOMNESS_MODES:
            raise ValueError(f"unknown randomness {self.mode!r}; expected one of {RANDOMNESS_MODES}")

    def generator(self, purpose: str):
        """A fresh generator for ``purpose`` ('bootstrap' or 'permutation')."""
        if self.mode == "seed_randomstate":
            return np.random.RandomState(self.seed)
        if self.mode == "seed_default_rng":
            return np.random.default_rng(self.seed)
        child = {"bootstrap": 0, "permutation": 1}[purpose]
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self.fold_index, child)))


def as_randomness(randomness) -> Randomness:
    if isinstance(randomness, Randomness):
        return randomness
    return Randomness(mode=str(randomness))


def bootstrap_indices(n: int, n_boot: int, randomness="seed_randomstate") -> np.ndarray:
    """(n_boot, n) resampling indices, drawn in one call. Equal to ``n_boot`` successive
    ``randint(0, n, n)`` / ``integers(0, n, n)`` calls on the same generator (tested): both
    generators fill a bulk request element by element from the same stream."""
    rng = as_randomness(randomness).generator("bootstrap")
    if isinstance(rng, np.random.RandomState):
        return rng.randint(0, n, size=(n_boot, n))
    return rng.integers(0, n, size=(n_boot, n))


def permutation_indices(n: int, n_perm: int, randomness="seed_randomstate") -> np.ndarray:
    """(n_perm, n) permutation indices; ``y[idx[k]]`` equals the k-th ``rng.permutation(y)``.

    Generator: ``permuted`` shuffles every row of a tiled arange in one call with the same
    Fisher-Yates draws as successive ``permutation`` calls. RandomState has no bulk equivalent
    (its shuffle rejects draws data-dependently), so its draws stay a loop; they cost about a
    microsecond each, the AUROCs on them are what is vectorized."""
    rng = as_randomness(randomness).generator("permutation")
    if isinstance(rng, np.random.RandomState):
        return np.stack([rng.permutation(n) for _ in range(n_perm)]) if n_perm else np.empty((0, n), int)
    return rng.permuted(np.tile(np.arange(n), (n_perm, 1)), axis=1)


def bootstrap_aurocs(y, s, n_boot: int = 2000, randomness="seed_randomstate") -> np.ndarray:
    """AUROCs of the bootstrap resamples that hold both classes, in draw order."""
    y = _as_labels(y)
    s = _as_scores(s, len(y))
    idx = bootstrap_indices(len(y), n_boot, randomness)
    yb = y[idx]
    two_classes = (yb.min(axis=1) == 0) & (yb.max(axis=1) == 1)
    return auroc_rows(yb[two_classes], s[idx[two_classes]])


def bootstrap_auroc_ci(y, s, n_boot: int = 2000, randomness="seed_randomstate") -> tuple[float, float]:
    """95 % percentile bootstrap CI of the AUROC (single-class resamples dropped)."""
    vals = bootstrap_aurocs(y, s, n_boot, randomness)
    if len(vals) == 0:
        return float("nan"), float("nan")
    return float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))


def permutation_null(y, s, n_perm: int = 1000, randomness="seed_randomstate") -> np.ndarray:
    """AUROCs with the labels permuted against the fixed scores, in draw order."""
    y = _as_labels(y)
    s = _as_scores(s, len(y))
    idx = permutation_indices(len(y), n_perm, randomness)
    return auroc_rows(y[idx], s)


def permutation_p(y, s, n_perm: int = 1000, randomness="seed_randomstate") -> float:
    """p = (#{null >= observed} + 1) / (n_perm + 1)."""
    observed = auroc(y, s)
    null = permutation_null(y, s, n_perm, randomness)
    return float((np.sum(null >= observed) + 1) / (n_perm + 1))
