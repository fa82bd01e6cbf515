"""The Cell 2020 external validation (issue 21): ``cell2020_validation.json``.

Reference lists: ``cell2020_reference.json`` beside this module (data, with their source: the seed's
``scripts/cell2020_validation.py``, MIT; compiled by its authors after Beheshti et al., Cell 2020).

- ``pathway_validation`` (seed rules, exact offline): per tissue, the mean NES of each Hallmark pathway over
  the tissue's missions (the release's ``processed/fgsea/<tissue>/<mission>_fgsea_hallmark.csv``); an
  expected-UP pathway is concordant when its mean NES > 0, an expected-DOWN one when < 0; the tissue's top
  pathways are ranked by |mean NES|.
- ``gene_validation`` (seed rules): the reference genes found (case-insensitive) among the keys of the
  tissue's ``A{n}_shap_rf.json`` ``top_genes`` (its top 50); a tissue without that file is ``NO_SHAP_DATA``.
  The SHAP files are gene-level (need expression): our own (``gene_shap``'s, given as ``ours``) first, else
  the folder ``shap_dir`` (the published files, as the seed read its evaluation/); ``top_genes_source``
  (ours, not in the published file) says which one each tissue's block was computed from.
- ``summary``: mean concordance / overlap over the tissues, the seed's verdict thresholds (0.7 / 0.5) and its
  chance rate 50 / 22000.
- ``dge_gene_validation`` (ours, not in the published file): the same reference genes in the release's DESeq2
  tables (liver, thymus): per gene its mean log2FC over missions, whether its sign matches the expected
  direction, and whether it is among the tissue's top 50 genes by mean |Wald stat|.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FILENAME = "cell2020_validation.json"
REFERENCE_FILE = Path(__file__).with_name("cell2020_reference.json")
DESCRIPTION = "External validation against published spaceflight biology"
CHANCE_RATE = 50 / 22000  # the seed's "50 SHAP genes / ~22000 total"
TOP_N = 50


def load_reference(path: Path | str = REFERENCE_FILE) -> dict:
    return json.loads(Path(path).read_text())


def fgsea_hallmark_files(release_dir: Path | str, tissue: str) -> list[Path]:
    return sorted((Path(release_dir) / "processed" / "fgsea" / tissue).glob("*_fgsea_hallmark.csv"))


def tissue_mean_nes(files: list[Path]) -> dict[str, float]:
    """Mean NES per pathway over the given missions' fGSEA tables (pathways sorted, as a groupby)."""
    if not files:
        return {}
    frame = pd.concat([pd.read_csv(p, usecols=["pathway", "NES"]) for p in files])
    return frame.groupby("pathway")["NES"].mean().to_dict()


def _short(pathway: str) -> str:
    return pathway.replace("HALLMARK_", "")


def validate_pathways(our_nes: dict[str, float], reference: dict) -> dict:
    """Direction concordance of the expected pathways and their place in the top 5 / 10 by |NES|."""
    up, down = reference.get("expected_up", []), reference.get("expected_down", [])
    expected = up + down
    found = [(p, "UP") for p in up if p in our_nes] + [(p, "DOWN") for p in down if p in our_nes]
    if not found:
        return {"status": "NO_DATA", "n_expected": len(expected)}
    details = []
    for p, direction in found:
        nes = our_nes[p]
        details.append({"pathway": _short(p), "expected": direction, "observed_nes": round(nes, 3),
                        "concordant": bool(nes > 0 if direction == "UP" else nes < 0)})
    concordant = sum(d["concordant"] for d in details)
    ranked = [p for p, _ in sorted(our_nes.items(), key=lambda kv: abs(kv[1]), reverse=True)]
    return {"status": "VALIDATED", "n_expected": len(expected), "n_found": len(found),
            "concordant": concordant, "discordant": len(found) - concordant,
            "concordance_rate": round(concordant / len(found), 3),
            "expected_in_top5": sum(p in ranked[:5] for p in expected),
            "expected_in_top10": sum(p in ranked[:10] for p in expected),
            "top5_pathways": [_short(p) for p in ranked[:5]], "details": details,
            "source": reference.get("source", "")}


def validate_genes(shap_genes: list[str], reference: dict, *, task_id: str) -> dict:
    """Reference genes among the SHAP top genes (case-insensitive; rank = 1-based position)."""
    rank = {g.lower(): i + 1 for i, g in enumerate(shap_genes)}  # as the seed: a case-duplicate keeps the last
    genes = reference.get("genes", {})
    found, missing = [], []
    for gene, info in genes.items():
        entry = {"gene": gene, "direction": info["direction"], "function": info["function"]}
        if gene.lower() in rank:
            found.append({"gene": gene, "shap_rank": rank[gene.lower()], **{k: entry[k] for k in ("direction", "function")}})
        else:
            missing.append(entry)
    return {"status": "VALIDATED", "task_id": task_id, "n_reference_genes": len(genes),
            "n_found_in_shap_top50": len(found),
            "overlap_rate": round(len(found) / len(genes), 3) if genes else 0,
            "found_genes": found, "not_found_genes": missing, "shap_top10": list(shap_genes[:10]),
            "source": reference.get("source", "")}


def summary(pathway_validation: dict, gene_validation: dict) -> dict:
    out: dict = {}
    rates = [v["concordance_rate"] for v in pathway_validation.values() if v.get("status") == "VALIDATED"]
    if rates:
        mean = float(np.mean(rates))
        verdict, text = (("STRONG", "Our fGSEA results strongly agree with published spaceflight pathway biology.")
                         if mean >= 0.7 else
                         ("MODERATE", "Our fGSEA results partially agree with published biology. "
                                      "Discordances may reflect mission-specific variation.")
                         if mean >= 0.5 else
                         ("WEAK", "Limited agreement. May reflect different analysis methods or datasets."))
        out.update({"pathway_mean_concordance": round(mean, 3), "pathway_n_tissues": len(rates),
                    "pathway_verdict": verdict,
                    "pathway_interpretation": f"Mean direction concordance {mean:.1%}: {text}"})
    overlaps = [v["overlap_rate"] for v in gene_validation.values() if v.get("status") == "VALIDATED"]
    if overlaps:
        mean = float(np.mean(overlaps))
        out.update({"gene_mean_overlap": round(mean, 3), "gene_n_tissues": len(overlaps),
                    "gene_interpretation": f"Mean overlap rate {mean:.1%} vs chance expectation ~{CHANCE_RATE:.1%}. "
                                           f"Enrichment ratio: {mean / CHANCE_RATE:.1f}x."})
    return out


def shap_top_genes(path: Path) -> list[str]:
    return list(json.loads(Path(path).read_text()).get("top_genes", {}))


SOURCE_OURS, SOURCE_FOLDER, SOURCE_ABSENT = "gene_shap", "shap_dir", "absent"


def shap_sources(reference: dict, shap_dir: Path | str | None, ours: dict[str, Path] | None = None) -> dict[str, dict]:
    """Per tissue of the reference gene lists, the ``A{n}_shap_rf.json`` its gene block reads: ``ours``
    (tissue -> our gene_shap file) first, else ``{shap_dir}/A{n}_shap_rf.json``, else absent."""
    out = {}
    for tissue in reference["genes"]:
        task_id = reference["gene_task"][tissue]
        folder = Path(shap_dir) / f"{task_id}_shap_rf.json" if shap_dir is not None else None
        if ours and tissue in ours:
            out[tissue] = {"source": SOURCE_OURS, "file": str(ours[tissue])}
        elif folder is not None and folder.exists():
            out[tissue] = {"source": SOURCE_FOLDER, "file": str(folder)}
        else:
            out[tissue] = {"source": SOURCE_ABSENT, "file": None}
    return out


def gene_validation_block(reference: dict, sources: dict[str, dict]) -> dict:
    """Per tissue of the reference gene lists: validate_genes on the top genes of the tissue's SHAP file
    (``shap_sources``), or NO_SHAP_DATA naming the file (the seed's record for a missing file)."""
    out = {}
    for tissue, genes in reference["genes"].items():
        task_id = reference["gene_task"][tissue]
        path = sources[tissue]["file"]
        if path is None:
            out[tissue] = {"status": "NO_SHAP_DATA", "file": f"evaluation/{task_id}_shap_rf.json"}
        else:
            out[tissue] = validate_genes(shap_top_genes(Path(path)), genes, task_id=task_id)
    return out


def dge_files(release_dir: Path | str, tissue: str) -> list[Path]:
    return sorted((Path(release_dir) / "processed" / "dge" / tissue).glob("*_deseq2_dge.csv"))


def dge_gene_validation(files: list[Path], genes: dict, symbol_map: pd.DataFrame, *, top_n: int = TOP_N) -> dict:
    """Reference genes in DESeq2 tables (ENSEMBL, log2FC, stat, ...): mean over missions of log2FC and
    |stat| per gene; `in_top{top_n}` = among the top_n genes by mean |stat|; `concordant` for up/down genes
    (None for 'variable'). symbol_map: ENSEMBL, SYMBOL."""
    frames = {p.name.removesuffix("_deseq2_dge.csv"): pd.read_csv(p).set_index("ENSEMBL") for p in files}
    if not frames:
        return {"status": "NO_DGE_DATA"}
    fc = pd.concat({m: f["log2FC"] for m, f in frames.items()}, axis=1).mean(axis=1)
    abs_stat = pd.concat({m: f["stat"].abs() for m, f in frames.items()}, axis=1).mean(axis=1).dropna()
    top = set(abs_stat.sort_values(ascending=False, kind="mergesort").index[:top_n])
    ids = symbol_map.groupby(symbol_map["SYMBOL"].str.lower())["ENSEMBL"].apply(list).to_dict()
    rows = []
    for gene, info in genes.items():
        present = [i for i in ids.get(gene.lower(), []) if i in abs_stat.index]
        if not present:
            rows.append({"gene": gene, "direction": info["direction"], "found": False})
            continue
        best = max(present, key=lambda i: abs_stat[i])
        mean_fc = float(fc[best])
        concordant = None if info["direction"] not in ("up", "down") else bool(mean_fc > 0 if info["direction"] == "up" else mean_fc < 0)
        rows.append({"gene": gene, "direction": info["direction"], "found": True, "ensembl": best,
                     "mean_log2FC": round(mean_fc, 4), "mean_abs_stat": round(float(abs_stat[best]), 4),
                     "abs_stat_rank": int((abs_stat > abs_stat[best]).sum()) + 1,
                     f"in_top{top_n}": best in top, "concordant": concordant})
    directed = [r["concordant"] for r in rows if r.get("concordant") is not None]
    return {"status": "VALIDATED", "missions": sorted(frames), "n_genes_ranked": int(len(abs_stat)),
            "n_reference_genes": len(genes), "n_found": sum(r["found"] for r in rows),
            f"n_in_top{top_n}": sum(bool(r.get(f"in_top{top_n}")) for r in rows),
            "n_directed": len(directed), "direction_concordance": round(float(np.mean(directed)), 3) if directed else None,
            "genes": rows}


def cell2020_validation(release_dir: Path | str, *, shap_dir: Path | str | None = None,
                        ours: dict[str, Path] | None = None, reference: dict | None = None, timestamp: str = "") -> dict:
    """The published layout (timestamp as given), plus ``dge_gene_validation`` (ours) where the release
    has DESeq2 tables and ``top_genes_source`` (ours: the SHAP file each tissue's gene block read)."""
    reference = reference or load_reference()
    pathways = {}
    for tissue, ref in reference["pathways"].items():
        nes = tissue_mean_nes(fgsea_hallmark_files(release_dir, tissue))
        if nes:
            pathways[tissue] = validate_pathways(nes, ref)
    sources = shap_sources(reference, shap_dir, ours)
    genes = gene_validation_block(reference, sources)
    symbol_path = Path(release_dir) / "processed" / "ensembl_symbol_map.csv"
    dge = {}
    if symbol_path.exists():
        symbol_map = pd.read_csv(symbol_path)
        for tissue, ref in reference["genes"].items():
            if files := dge_files(release_dir, tissue):
                dge[tissue] = dge_gene_validation(files, ref["genes"], symbol_map)
    return {"timestamp": timestamp, "description": DESCRIPTION, "references": reference["references"],
            "pathway_validation": pathways, "gene_validation": genes, "summary": summary(pathways, genes),
            "dge_gene_validation": dge, "top_genes_source": sources}
