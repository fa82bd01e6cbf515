"""NES conservation across missions related to cross-mission transfer (SPEC §8).

Per tissue: Spearman r of the fgsea NES vectors (pathways shared, non-NaN, at least 10) between
every pair of missions' fgsea files (sorted), rounded to 3 decimals as published; tissue score =
their mean (rounded). Then the rank correlation between tissue score and the tissue's Category B
mean transfer AUROC, over every tissue, reported with n and p.

Seed defect (issue 11, defect 6): the published script hard-codes the transfer AUROCs
(``SEED_TRANSFER_AUROC``, copied from its table) and its "rank correlation 0.9" drops
gastrocnemius; with all six tissues Spearman is about 0.6 (p about 0.21). ``seed`` reproduces the
per-tissue entries with those constants; the correlation is always computed on every tissue.
``strict`` (``protocol_results``) takes the transfer AUROCs computed by the B evaluation instead: the
release's (``B_cross_mission_summary.json``, PCA-LR, ``transfer_from_b_summary``) or our B assets'
(``transfer_evaluation``), and names its source. Transfer AUROCs can be passed in (``transfer``); the Dagster asset
``nes_conservation_vs_b_transfer`` (defs/transfer) relates our NES conservation to our B assets with
``rank_correlation``, which reports n, p and every tissue.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

TISSUES = ("liver", "gastrocnemius", "kidney", "thymus", "eye", "skin")
# The published script's hard-coded table (from its B_cross_mission_summary.json, PCA-LR).
SEED_TRANSFER_AUROC = {
    "liver": {"auroc": 0.577, "ci": [0.492, 0.666], "n": 6},
    "gastrocnemius": {"auroc": 0.801, "ci": [0.653, 0.944], "n": 3},
    "kidney": {"auroc": 0.555, "ci": [0.397, 0.681], "n": 3},
    "thymus": {"auroc": 0.860, "ci": [0.763, 0.953], "n": 4},
    "eye": {"auroc": 0.754, "ci": [0.688, 0.838], "n": 3},
    "skin": {"auroc": 0.7718, "ci": [0.6914, 0.8338], "n": 3},
}
# The published entries' notes (why a tissue has fewer fgsea missions than transfer missions).
NOTES = {
    "gastrocnemius": "Only 2 missions have fGSEA data (RR-5 has no DGE file).",
    "skin": ("RR-7 (GLDS-254) excluded: only normalized counts available, no DGE. fGSEA run on 3 sources: RR-6, "
             "MHU-2_dorsal (GLDS-238), MHU-2_femoral (GLDS-239). Transfer AUROC (B5) uses merged MHU-2 + RR-7."),
}
MIN_SHARED_PATHWAYS = 10


def nes_conservation(release_dir: Path | str, tissue: str, db: str = "hallmark") -> dict | None:
    """Pairwise NES Spearman r between the tissue's fgsea files; None with fewer than 2 files."""
    from scipy.stats import spearmanr

    base = Path(release_dir) / "processed" / "fgsea" / tissue
    suffix = f"_fgsea_{db}"
    missions = sorted(f.name[: -len(suffix) - 4] for f in base.glob(f"*{suffix}.csv"))
    if len(missions) < 2:
        return None
    nes = {m: pd.read_csv(base / f"{m}{suffix}.csv").set_index("pathway")["NES"] for m in missions}
    pairs = {}
    for m1, m2 in combinations(missions, 2):
        common = nes[m1].index.intersection(nes[m2].index)
        v1, v2 = nes[m1][common], nes[m2][common]
        mask = v1.notna() & v2.notna()
        if mask.sum() < MIN_SHARED_PATHWAYS:
            continue
        r, _ = spearmanr(v1[mask], v2[mask])
        pairs[f"{m1}_{m2}"] = round(float(r), 3)
    if not pairs:
        return None
    return {"nes_mean_r": round(float(np.mean(list(pairs.values()))), 3), "n_missions_nes": len(nes),
            "n_pathways": len(nes[missions[0]]), "nes_pairs": pairs}


def conservation_vs_transfer(release_dir: Path | str, db: str = "hallmark", transfer: dict | None = None) -> dict:
    """``data.<tissue>`` entries in the published layout and the rank correlation on every tissue."""
    transfer = SEED_TRANSFER_AUROC if transfer is None else transfer
    data = {}
    for tissue in TISSUES:
        entry = nes_conservation(release_dir, tissue, db)
        if entry is None or tissue not in transfer:
            continue
        t = transfer[tissue]
        entry.update({"transfer_auroc": t["auroc"], "transfer_ci": t["ci"], "n_missions_transfer": t["n"]})
        if tissue in NOTES:
            entry["note"] = NOTES[tissue]
        data[tissue] = entry
    tissues = list(data)
    rc = rank_correlation({t: data[t]["nes_mean_r"] for t in tissues}, {t: data[t]["transfer_auroc"] for t in tissues})
    rc["transfer_source"] = "published hard-coded table (seed)" if transfer is SEED_TRANSFER_AUROC else "ours"
    return {"data": data, "rank_correlation": rc}


def rank_correlation(nes_mean_r: dict[str, float | None], transfer_auroc: dict[str, float | None]) -> dict:
    """Spearman rank correlation between the tissues' NES conservation and their transfer AUROC, over
    every tissue that has both (tissues in the order given: NES first, then transfer-only ones); every
    other tissue is listed in `excluded` with what it lacks, never dropped silently. rho and p are None
    with fewer than 3 tissues (a rank correlation of 2 points is +-1 by construction)."""
    from scipy.stats import spearmanr

    tissues, excluded = [], {}
    for t in dict.fromkeys([*nes_mean_r, *transfer_auroc]):
        lacks = [what for what, v in (("NES conservation", nes_mean_r.get(t)), ("transfer AUROC", transfer_auroc.get(t)))
                 if v is None or (isinstance(v, float) and np.isnan(v))]
        if lacks:
            excluded[t] = "no " + " and no ".join(lacks)
        else:
            tissues.append(t)
    nes = [float(nes_mean_r[t]) for t in tissues]
    auc = [float(transfer_auroc[t]) for t in tissues]
    rho = p = None
    if len(tissues) >= 3:
        r, pv = spearmanr(nes, auc)
        rho, p = float(r), float(pv)
    return {"method": "spearman", "n": len(tissues), "rho": rho, "p": p, "tissues": tissues,
            "nes_mean_r": nes, "transfer_auroc": auc, "excluded": excluded,
            **({} if rho is not None else {"note": f"rank correlation needs >= 3 tissues with both values, have {len(tissues)}"})}


B_SUMMARY_FILE = "B_cross_mission_summary.json"


def transfer_from_b_summary(path: Path | str, method: str = "pca_lr") -> dict:
    """Per tissue ``{"auroc", "ci", "n"}`` from a B evaluation summary (the release's
    ``B_cross_mission_summary.json`` layout: ``<tissue>.methods.<method>.mean_auroc/ci_low/ci_high``,
    ``n_missions``), unrounded."""
    import json

    doc = json.loads(Path(path).read_text())
    out = {}
    for tissue, entry in doc.items():
        m = (entry.get("methods") or {}).get(method) if isinstance(entry, dict) else None
        if m and m.get("mean_auroc") is not None:
            out[tissue] = {"auroc": float(m["mean_auroc"]), "ci": [m.get("ci_low"), m.get("ci_high")],
                           "n": int(entry.get("n_missions", 0))}
    return out


def published_five_tissue_correlation(result: dict) -> dict:
    """The published "rank correlation 0.9": the seed's hard-coded AUROCs with gastrocnemius dropped."""
    data = {t: v for t, v in result["data"].items() if t != "gastrocnemius"}
    return rank_correlation({t: v["nes_mean_r"] for t, v in data.items()}, {t: v["transfer_auroc"] for t, v in data.items()})


def protocol_results(release_dir: Path | str, *, strict_transfer: dict | None, strict_source: str,
                     db: str = "hallmark") -> dict:
    """Seed (the published entries, hard-coded AUROCs; its correlation on all six tissues and, beside
    it, the published five-tissue one) and strict (the B evaluation's AUROCs, source named). Without
    a B evaluation strict is None and says why."""
    seed = conservation_vs_transfer(release_dir, db)
    seed["published_rank_correlation"] = published_five_tissue_correlation(seed)
    if strict_transfer:
        strict = conservation_vs_transfer(release_dir, db, transfer=strict_transfer)
        strict["rank_correlation"]["transfer_source"] = strict_source
        seed["strict"] = {"rank_correlation": strict["rank_correlation"],
                          "transfer_auroc": {t: v["transfer_auroc"] for t, v in strict["data"].items()},
                          "transfer_source": strict_source}
    else:
        seed["strict"] = None
        seed["strict_missing"] = strict_source
    return seed
