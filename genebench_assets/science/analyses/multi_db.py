"""The multi-database comparison (issue 21): ``multi_db_comparison.json``.

- ``auroc``: per model (pca_lr, lr), tissue and collection, the summary fields of the reproduced
  ``A{n}_pathway_{db}_results.json`` tables (mean_auroc, std_auroc, mean_ci_lower, mean_perm_p, go,
  n_folds) - a pure re-layout, so exact wherever those tables are.
- ``nes_conservation``: per tissue and collection, from the release's fGSEA tables
  (``processed/fgsea/<tissue>/<mission>_fgsea_<db>.csv``): ``nes_mean_r`` = mean over mission pairs of
  the Spearman correlation of NES on the pathways both missions have, each pair rounded to 3 decimals,
  the mean rounded to 3; ``n_missions`` = number of fGSEA files; ``n_pathways`` = pathways of the first
  mission (files sorted), as published.
- ``mitocarta_deep_dive``: per tissue and mission (``*_fgsea_mitocarta.csv``, files sorted), per OXPHOS
  complex the MitoCarta pathways whose name contains one of the complex's keywords, in file order, with
  their NES, padj and mean NES. Seed: substring match (``compare_pathway_dbs.py``), so ``Complex_I`` also
  takes every ``COMPLEX_II``/``III``/``IV`` pathway and ``CYTOCHROME`` any cytochrome set; strict: the
  complex token must end at a name boundary (``COMPLEX_I_`` or the name's end), shown beside it.
- ``cross_db_concordance``: per tissue and mission with both files, HALLMARK_OXIDATIVE_PHOSPHORYLATION's
  NES against every MitoCarta OXPHOS-related pathway (regex of the seed): how many share its sign.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

PUBLISHED_TISSUES = ("liver", "gastrocnemius", "kidney", "thymus", "eye", "skin")   # published key order
COLLECTIONS = ("hallmark", "kegg", "reactome", "mitocarta")
MODELS = ("pca_lr", "lr")
AUROC_FIELDS = ("mean_auroc", "std_auroc", "mean_ci_lower", "mean_perm_p", "go", "n_folds")
FILENAME = "multi_db_comparison.json"


def auroc_block(results: dict[tuple[str, str], dict]) -> dict:
    """results: (tissue, db) -> the A{n}_pathway_{db}_results.json dict. Missing pairs are left out."""
    out: dict = {}
    for model in MODELS:
        by_tissue = {}
        for tissue in PUBLISHED_TISSUES:
            by_db = {db: {k: results[(tissue, db)][model][k] for k in AUROC_FIELDS}
                     for db in COLLECTIONS if (tissue, db) in results}
            if by_db:
                by_tissue[tissue] = by_db
        out[model] = by_tissue
    return out


def fgsea_files(release_dir: Path | str, tissue: str, db: str) -> list[Path]:
    return sorted((Path(release_dir) / "processed" / "fgsea" / tissue).glob(f"*_fgsea_{db}.csv"))


def read_nes(path: Path) -> pd.Series:
    frame = pd.read_csv(path, usecols=["pathway", "NES"])
    return frame.drop_duplicates("pathway").set_index("pathway")["NES"].astype(float)


def nes_conservation_entry(files: list[Path]) -> dict:
    from scipy.stats import spearmanr

    nes = {p.name.split("_fgsea_")[0]: read_nes(p) for p in files}
    if len(nes) < 2:
        raise ValueError(f"NES conservation needs 2 missions, got {len(nes)} fGSEA file(s)")
    pairs = []
    for a, b in itertools.combinations(nes, 2):
        both = pd.concat([nes[a], nes[b]], axis=1, join="inner").dropna()
        pairs.append(round(float(spearmanr(both.iloc[:, 0], both.iloc[:, 1])[0]), 3))
    return {"nes_mean_r": round(float(np.mean(pairs)), 3), "n_missions": len(nes),
            "n_pathways": int(len(next(iter(nes.values()))))}


def nes_conservation(release_dir: Path | str, tissues=PUBLISHED_TISSUES, dbs=COLLECTIONS) -> dict:
    out = {}
    for tissue in tissues:
        by_db = {db: nes_conservation_entry(files) for db in dbs if len(files := fgsea_files(release_dir, tissue, db)) >= 2}
        if by_db:
            out[tissue] = by_db
    return out


# compare_pathway_dbs.py's keywords, in its order (the published key order of each mission).
OXPHOS_KEYWORDS = {
    "Complex_I": ("COMPLEX_I", "NADH"),
    "Complex_II": ("COMPLEX_II", "SUCCINATE"),
    "Complex_III": ("COMPLEX_III", "CYTOCHROME_B"),
    "Complex_IV": ("COMPLEX_IV", "CYTOCHROME_C_OXIDASE"),
    "Complex_V": ("COMPLEX_V", "ATP_SYNTHASE"),
    "OXPHOS_general": ("OXPHOS", "OXIDATIVE_PHOSPHORYLATION"),
}
OXPHOS_REGEX = "OXPHOS|COMPLEX_I|COMPLEX_II|COMPLEX_III|COMPLEX_IV|COMPLEX_V|NADH|ATP_SYNTHASE|SUCCINATE|CYTOCHROME"
HALLMARK_OXPHOS = "OXIDATIVE_PHOSPHORYLATION"


def keyword_matches(pathway: str, keywords, *, match: str = "seed") -> bool:
    """seed: any keyword is a substring (COMPLEX_I matches COMPLEX_IV); strict: the keyword must end at
    the name's end or an underscore (COMPLEX_I matches ..._COMPLEX_I_CI_SUBUNITS only)."""
    name = pathway.upper()
    if match == "seed":
        return any(k in name for k in keywords)
    if match == "strict":
        return any(re.search(re.escape(k) + r"(?:_|$)", name) for k in keywords)
    raise ValueError(f"match must be 'seed' or 'strict', got {match!r}")


def _mission_files(release_dir: Path | str, tissue: str, db: str) -> dict[str, Path]:
    return {p.name.removesuffix(f"_fgsea_{db}.csv"): p for p in fgsea_files(release_dir, tissue, db)}


def mitocarta_complexes(fgsea: pd.DataFrame, *, match: str = "seed") -> dict:
    """One mission's MitoCarta fGSEA table -> {complex: {pathways, NES, padj, mean_NES}} (file order)."""
    out = {}
    for name, keywords in OXPHOS_KEYWORDS.items():
        hit = fgsea[fgsea["pathway"].map(lambda p: keyword_matches(p, keywords, match=match))]
        if not hit.empty:
            out[name] = {"pathways": hit["pathway"].tolist(), "NES": hit["NES"].tolist(),
                         "padj": hit["padj"].tolist(), "mean_NES": float(hit["NES"].mean())}
    return out


def mitocarta_deep_dive(release_dir: Path | str, tissues=PUBLISHED_TISSUES, *, match: str = "seed") -> dict:
    out = {}
    for tissue in tissues:
        files = _mission_files(release_dir, tissue, "mitocarta")
        if files:
            out[tissue] = {m: mitocarta_complexes(pd.read_csv(p), match=match) for m, p in files.items()}
    return out


def oxphos_concordance(hallmark: pd.DataFrame, mitocarta: pd.DataFrame) -> dict | None:
    """Hallmark OXPHOS NES vs the MitoCarta OXPHOS-related pathways of the same mission (seed rules:
    the first hallmark row containing OXIDATIVE_PHOSPHORYLATION; NES > 0 is 'up', everything else 'down')."""
    hm = hallmark[hallmark["pathway"].str.contains(HALLMARK_OXPHOS, case=False)]
    mc = mitocarta[mitocarta["pathway"].str.upper().str.contains(OXPHOS_REGEX)]
    if hm.empty or mc.empty:
        return None
    hm_nes = float(hm["NES"].iloc[0])
    same = int(((mc["NES"] > 0).astype(int) == int(hm_nes > 0)).sum())
    return {"hallmark_OXPHOS_NES": hm_nes, "mitocarta_OXPHOS_pathways": mc["pathway"].tolist(),
            "mitocarta_NES": mc["NES"].tolist(), "n_concordant": same, "n_total": len(mc),
            "concordance_rate": round(same / len(mc), 3)}


def cross_db_concordance(release_dir: Path | str, tissues=PUBLISHED_TISSUES) -> dict:
    out = {}
    for tissue in tissues:
        hallmark, mito = _mission_files(release_dir, tissue, "hallmark"), _mission_files(release_dir, tissue, "mitocarta")
        common = sorted(set(hallmark) & set(mito))
        if not common:
            continue
        rows = {m: oxphos_concordance(pd.read_csv(hallmark[m]), pd.read_csv(mito[m])) for m in common}
        out[tissue] = {m: r for m, r in rows.items() if r is not None}
    return out


def multi_db_comparison(results: dict[tuple[str, str], dict], release_dir: Path | str | None) -> dict:
    """The blocks we compute, in the published order (the seed's complex matching)."""
    out = {"auroc": auroc_block(results)}
    if release_dir is not None:
        out["nes_conservation"] = nes_conservation(release_dir)
        out["mitocarta_deep_dive"] = mitocarta_deep_dive(release_dir)
        out["cross_db_concordance"] = cross_db_concordance(release_dir)
    return out


def complex_membership_diff(seed: dict, strict: dict) -> list[dict]:
    """Per tissue, mission and complex: the pathways the seed's substring match adds (strict drops)."""
    rows = []
    for tissue, missions in seed.items():
        for mission, complexes in missions.items():
            for name, entry in complexes.items():
                kept = set(strict.get(tissue, {}).get(mission, {}).get(name, {}).get("pathways", []))
                extra = [p for p in entry["pathways"] if p not in kept]
                if extra:
                    rows.append({"tissue": tissue, "mission": mission, "complex": name, "seed_only": extra,
                                 "seed_mean_NES": entry["mean_NES"],
                                 "strict_mean_NES": strict.get(tissue, {}).get(mission, {}).get(name, {}).get("mean_NES")})
    return rows


def auroc_png(block: dict, model: str = "pca_lr") -> bytes:
    """Grouped bars: mean AUROC per tissue, one bar per collection."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tissues = list(block.get(model, {}))
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    width = 0.8 / len(COLLECTIONS)
    for j, db in enumerate(COLLECTIONS):
        vals = [block[model][t].get(db, {}).get("mean_auroc", np.nan) for t in tissues]
        ax.bar(np.arange(len(tissues)) + j * width, vals, width, label=db)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(tissues)) + 0.4 - width / 2, tissues)
    ax.set(ylabel="mean LOMO AUROC", ylim=(0, 1), title=f"{model}: AUROC by gene-set collection")
    ax.legend(fontsize=7, ncol=4, loc="lower right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
