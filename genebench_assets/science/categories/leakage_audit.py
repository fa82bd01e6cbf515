"""The leakage audit (SPEC §11, issues 11 and 24): per figure of categories A-D and the negative
controls, the seed protocol's number beside the strict protocol's (with its CI), and the move split
over the seed defects that cause it.

Every row: ``task``, ``metric``, ``figure`` (where the number is published), ``seed``, ``strict``,
``strict_ci``, ``difference`` (strict - seed), ``steps`` (one per defect that applies to the figure,
in the fixed order ``ORDER``: ``{"defect", "evidence", "delta"}``; ``evidence`` holds numbers computed
from the data, ``delta`` the move that defect causes), ``remainder`` (the move no declared defect
explains), ``measured`` and ``moved_by`` (the defects with a non-zero step), and ``defect`` (one line:
each step with its share, None when no defect applies).

Attribution follows SpaceOmicsBench's ``seed_vs_strict`` (science/spaceomicsbench/defect_attribution.py):
defects are applied one at a time, in a fixed order, from the seed value; each step is the value after
its fix minus the value before it (4 decimals), the remainder is what is left of strict - seed. A step
whose intermediate value the release cannot give (it needs gene-level matrices) is ``None`` and the
row is not ``measured``. A defect that applies to a figure but that neither protocol acts on (the A4
strain metadata: both read the strain from the sample names) keeps a zero step with its evidence.

Evidence comes from ``collect_evidence`` (release files and the published category / evaluation
files); tests pass planted evidence to ``audit_rows`` directly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from genebench_assets.science.categories.published_layout import DEFECTS
from genebench_assets.science.markdown_tables import markdown_table

THYMUS_ROWS = "thymus_mhu1_rows"
STRAIN = "a4_strain_metadata"
METHOD_B = "c_method_b_leakage"
NES_DROPPED = "nes_gastrocnemius_dropped"
NES_HARDCODED = "nes_transfer_hardcoded"
NC1_STALE_A4 = "nc1_stale_a4"
NC1_MISSING_D = "nc1_missing_d"
NC2_BAND = "nc2_outside_band"
WHOLE_DATA = "category_a_whole_data_steps"
# The fixed order in which defects are applied from the seed value.
ORDER = (THYMUS_ROWS, STRAIN, METHOD_B, NES_DROPPED, NES_HARDCODED, NC1_STALE_A4, NC1_MISSING_D, NC2_BAND, WHOLE_DATA)
SHORT_NAMES = {THYMUS_ROWS: "thymus MHU-1 rows", STRAIN: "A4 strain metadata", METHOD_B: "method B test-label DEGs",
               NES_DROPPED: "gastrocnemius dropped", NES_HARDCODED: "hard-coded transfer AUROCs",
               NC1_STALE_A4: "NC1 stale A4 p", NC1_MISSING_D: "NC1 missing D entries", NC2_BAND: "NC2 outside band",
               WHOLE_DATA: "whole-data steps"}
DESCRIPTIONS = {
    **{k: DEFECTS[k] for k in (THYMUS_ROWS, STRAIN, METHOD_B)},
    NES_DROPPED: "the published NES-vs-transfer rank correlation (0.9) drops gastrocnemius (defect 6)",
    NES_HARDCODED: "the published NES-vs-transfer script hard-codes rounded transfer AUROCs (defect 6)",
    NC1_STALE_A4: ("NC1 reports A4's p as 0.0372 from 1000 permutations; its source file (A4_baseline_results.json, "
                   "PCA-LR) ran 10 per fold, so no p below 1/11 = 0.0909 is reachable (defect 4)"),
    NC1_MISSING_D: "NC1 leaves out D tasks whose permutation p the D file reports (defect 4)",
    NC2_BAND: "the housekeeping control falls outside [0.35, 0.65] (defect 5); needs gene-level matrices",
    WHOLE_DATA: ("low-expression filter, shared size factors, per-mission GSVA kernels (a within-mission batch "
                 "correction) and the variance filter fit on all samples of a tissue before the LOMO split"),
}
NOT_ON_RELEASE = "needs gene-level matrices (demo, live or mirror sources), absent from the release"
ALPHA = 0.05


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _d(a, b):
    return round(a - b, 4) if _num(a) and _num(b) else None


def attribute(seed, strict, points: list[tuple[str, object, dict]]) -> dict:
    """Apply the defects of ``points`` ([(defect, value after fixing it and every earlier one, evidence)],
    in ``ORDER``) one at a time from ``seed``. A value None cannot be measured: its step is None and
    so is every later one (their starting point is unknown). Returns steps, remainder, measured, moved_by."""
    points = sorted(points, key=lambda p: ORDER.index(p[0]))
    steps, before, measured = [], seed, _num(seed)
    for defect, after, evidence in points:
        delta = _d(after, before) if measured else None
        measured = measured and delta is not None
        steps.append({"defect": defect, "evidence": evidence, "delta": delta})
        before = after
    total = _d(strict, seed)
    remainder = round(total - sum(s["delta"] for s in steps), 4) if measured and total is not None else None
    moved_by = [s["defect"] for s in steps if s["delta"]]
    if remainder:
        moved_by.append("unexplained")
    return {"steps": steps, "remainder": remainder, "measured": measured and total is not None, "moved_by": moved_by}


def _evidence_text(ev: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in ev.items()
                     if isinstance(v, (int, float, str)) and not isinstance(v, bool))


def attribution_text(attr: dict) -> str | None:
    """One cell: each step in order with its share and evidence, then the remainder (None: no defect)."""
    if not attr["steps"]:
        return None
    parts = [f"{SHORT_NAMES[s['defect']]} " + ("not measured" if s["delta"] is None else f"{s['delta']:+.4f}")
             + (f" [{_evidence_text(s['evidence'])}]" if s["evidence"] else "") for s in attr["steps"]]
    parts.append("remainder " + ("n/a" if attr["remainder"] is None else f"{attr['remainder']:+.4f}"))
    return "; ".join(parts)


def _row(task, metric, figure, seed, strict, points, strict_ci=None, **extra) -> dict:
    attr = attribute(seed, strict, points)
    return dict(task=task, metric=metric, figure=figure, seed=seed, strict=strict,
                strict_ci=strict_ci if strict_ci and all(_num(v) for v in strict_ci) else None,
                difference=(strict - seed) if _num(seed) and _num(strict) else None, **attr,
                defect=attribution_text(attr), **extra)


# --------------------------------------------------------------------------------------------
# evidence from the data
# --------------------------------------------------------------------------------------------

def thymus_repeat_evidence(release_dir: Path | str, db: str = "hallmark") -> dict:
    """The thymus samples scored in more than one GSVA file, and how far their two rows differ."""
    import numpy as np

    from genebench_assets.science.categories import release_samples
    from genebench_assets.science.categories.release_samples import DuplicateRows

    missions = release_samples.SEED_TISSUE_MISSIONS["thymus"]
    dup = release_samples.duplicated_samples(release_dir, "thymus", db, missions)
    seed, _ = release_samples.stacked_scores(release_dir, "thymus", db, missions, DuplicateRows.SEED_LAST)
    own, _ = release_samples.stacked_scores(release_dir, "thymus", db, missions, DuplicateRows.OWN_MISSION)
    ids = sorted(dup)
    cols = [c for c in own.columns if c in seed.columns]
    diff = np.abs(seed.loc[ids, cols].to_numpy(float) - own.loc[ids, cols].to_numpy(float)) if ids else np.zeros(0)
    return {"samples": ids, "n_repeated_rows": len(ids),
            "max_abs_gsva_difference": round(float(np.nanmax(diff)), 4) if diff.size else 0.0}


def strain_evidence(release_dir: Path | str) -> dict:
    """Thymus ground controls whose release strain differs from their name's, and D4's classes under
    the release metadata."""
    from genebench_assets.science.categories import release_samples

    s = release_samples.tissue_samples(release_dir, "thymus")
    gc = s[s["group"] == "GC"]
    relabelled = gc[gc["strain_name"].notna() & (gc["strain_name"] != gc["strain_release"])]
    return {"n_relabelled": int(len(relabelled)),
            "d4_classes_with_release_metadata": int(gc["strain_release"].nunique()),
            "d4_classes_with_names": int(gc["strain_release"].where(gc["strain_name"] != "C57BL/6CR", "C57BL/6CR").nunique())}


def _p_floor(ps: list[float]) -> int | None:
    """The smallest permutation count n for which every p is a multiple of 1/(n+1) (p = (k+1)/(n+1))."""
    for n in range(1, 100_001):
        if all(abs(p * (n + 1) - round(p * (n + 1))) < 1e-6 for p in ps):
            return n
    return None


def nc1_evidence(category_dir: Path | str, evaluation_dir: Path | str) -> dict:
    """NC1's A4 entry against its source file, and the D tasks it leaves out."""
    nc1 = json.loads((Path(category_dir) / "NC1_permutation_summary.json").read_text())
    entries = {e["task_id"]: e for e in nc1["entries"]}
    out = {"published_n_entries": len(entries), "published_n_significant": sum(bool(e.get("significant")) for e in entries.values()),
           "published_n_d_entries": sum(e.get("category") == "D" for e in entries.values())}
    a4 = entries.get("A4")
    src = Path(evaluation_dir) / "A4_baseline_results.json"
    if a4 and src.is_file():
        model = json.loads(src.read_text())[a4.get("model", "pca_lr")]
        fold_p = [f["perm_pvalue"] for f in model["folds"]]
        n = _p_floor(fold_p)
        recomputed = float(sum(fold_p) / len(fold_p))
        out["a4"] = {"published_p": a4["perm_p"], "published_n_perm": a4.get("n_perm"),
                     "source_n_perm_per_fold": n, "reachable_minimum_p": round(1 / (n + 1), 4) if n else None,
                     "source_mean_p": recomputed, "published_significant": bool(a4.get("significant")),
                     "source_significant": recomputed < ALPHA}
    d_file = Path(category_dir) / "D_condition_summary.json"
    if d_file.is_file():
        missing = {}
        for task, doc in json.loads(d_file.read_text())["tasks"].items():
            for mode, r in doc.get("feature_modes", {}).items():
                key = f"{task}_{mode}"
                if key not in entries and _num(r.get("perm_p")):
                    missing[key] = r["perm_p"]
        out["missing_d"] = missing
    return out


def nc2_evidence(category_dir: Path | str, band=(0.35, 0.65)) -> dict:
    nc2 = json.loads((Path(category_dir) / "NC2_housekeeping_summary.json").read_text())
    outside = {r["tissue"]: r["mean_auroc"] for r in nc2["results"] if not band[0] <= r["mean_auroc"] <= band[1]}
    return {"outside": outside, "band": list(band)}


def method_b_evidence(category_dir: Path | str, gene_transfer: dict[str, dict] | None = None) -> dict:
    """Per C task: the published method B's shared-DEG count (DEGs of the training tissue that are also
    DEGs of the test tissue, i.e. chosen with the test tissue's labels), its features and AUROC; with
    our gene-level results (``cross_tissue_gene_transfer`` docs) our seed count and both AUROCs too."""
    c = json.loads((Path(category_dir) / "C_cross_tissue_summary.json").read_text())["tasks"]
    out = {}
    for task, doc in c.items():
        b = doc.get("method_b") or {}
        out[task] = {"published_n_shared_degs": b.get("n_shared_degs"), "published_n_features": b.get("n_features"),
                     "n_test": doc.get("n_test"), "published_auroc": b.get("auroc")}
        ours = (gene_transfer or {}).get(task)
        if ours:
            s, t = ours["seed"]["method_b"], ours["strict"]["method_b"]
            out[task].update(our_seed_n_shared_degs=s.get("n_shared_degs"), our_seed_auroc=s.get("auroc"),
                             our_strict_auroc=t.get("auroc"), our_strict_ci=[t.get("ci_low"), t.get("ci_high")],
                             our_strict_n_features=t.get("n_features"))
    return out


def collect_evidence(release_dir: Path | str | None, published_dir: Path | str | None,
                     gene_transfer: dict[str, dict] | None = None) -> dict:
    """Every defect's evidence that the data at hand allows; an absent input is named, not guessed.
    ``published_dir`` holds ``genelab_category_results/`` and ``genelab_evaluation/``."""
    ev: dict = {"missing": []}
    if release_dir is not None:
        ev["thymus_repeat"] = thymus_repeat_evidence(release_dir)
        ev["strain"] = strain_evidence(release_dir)
    cat = Path(published_dir) / "genelab_category_results" if published_dir else None
    if cat is not None and cat.is_dir():
        ev["method_b"] = method_b_evidence(cat, gene_transfer)
        ev["nc1"] = nc1_evidence(cat, Path(published_dir) / "genelab_evaluation")
        ev["nc2"] = nc2_evidence(cat)
    else:
        ev["missing"].append(f"published category results not found at {cat} (method B, NC1, NC2 evidence)")
    return ev


# --------------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------------

def _repeat_points(samples, evidence: dict, after) -> list:
    """The thymus-rows step when the figure's samples include a repeated row."""
    rep = evidence.get("thymus_repeat")
    if rep is None:
        return []
    n = len(set(rep["samples"]) & set(samples))
    if not n:
        return []
    return [(THYMUS_ROWS, after, {"n_rows_from_repeat": n, "max_abs_gsva_difference": rep["max_abs_gsva_difference"]})]


def audit_rows(c: dict[str, dict], d: dict[str, dict], j5: dict[str, dict], nes: dict | None = None,
               evidence: dict | None = None) -> list[dict]:
    """The audit rows (module docstring) from the category results of both protocols and the evidence."""
    ev = evidence or {}
    rows = []
    for task, doc in c.items():
        s, t = doc["seed"], doc["strict"]
        samples = list(s.get("train_samples", [])) + list(s.get("test_scores", {}))
        rows.append(_row(f"{task} method C", "auroc", f"C_cross_tissue_summary.json tasks.{task}.method_c.auroc",
                         s["auroc"], t["auroc"], _repeat_points(samples, ev, t["auroc"]), [t.get("ci_low"), t.get("ci_high")]))
    for task, b in (ev.get("method_b") or {}).items():
        strict = b.get("our_strict_auroc")
        evidence_b = {k: b[k] for k in ("published_n_shared_degs", "published_n_features", "n_test", "our_seed_n_shared_degs")
                      if b.get(k) is not None}
        rows.append(_row(f"{task} method B", "auroc", f"C_cross_tissue_summary.json tasks.{task}.method_b.auroc",
                         b.get("published_auroc"), strict, [(METHOD_B, None, evidence_b)], b.get("our_strict_ci"),
                         note=None if strict is not None else f"strict {NOT_ON_RELEASE}"))
    for task, doc in d.items():
        figure = f"D_condition_summary.json tasks.{task}.feature_modes.pathway.macro_f1"
        if doc.get("seed") is None:
            rows.append(_row(task, "macro_f1", figure, None, None, [], note=f"not run: class counts {doc.get('class_counts')}"))
            continue
        s, t = doc["seed"], doc["strict"]
        points = _repeat_points(s["_details"].get("samples", []), ev, t["macro_f1"])
        if task == "D4" and ev.get("strain", {}).get("n_relabelled"):
            # neither protocol uses the release's strain: the defect moves nothing (its step is 0)
            points.append((STRAIN, t["macro_f1"], {k: v for k, v in ev["strain"].items()}))
        rows.append(_row(task, "macro_f1", figure, s["macro_f1"], t["macro_f1"], points, [t.get("ci_low"), t.get("ci_high")]))
    for tissue, doc in j5.items():
        seed, strict = doc["seed"]["pathway_mean_auroc"], doc["strict"]["pathway_mean_auroc"]
        rep = ev.get("thymus_repeat")
        points = ([(THYMUS_ROWS, strict, {"n_rows_from_repeat": rep["n_repeated_rows"],
                                          "max_abs_gsva_difference": rep["max_abs_gsva_difference"]})]
                  if tissue == "thymus" and rep and rep["n_repeated_rows"] else [])
        rows.append(_row(f"J5 {tissue} (pathway)", "mean_auroc", f"J5_gene_vs_pathway.json category_a_details.{tissue}.pathway_mean_auroc",
                         seed, strict, points, note="mean over LOMO folds: no CI in the published layout"))
    if nes is not None:
        rows.append(_nes_row(nes))
    rows += _nc1_rows(ev.get("nc1"))
    nc2 = ev.get("nc2")
    rows.append(_row("NC2", "mean_auroc", "NC2_housekeeping_summary.json results[].mean_auroc", None, None,
                     [(NC2_BAND, None, {f"{t}_mean_auroc": v for t, v in (nc2 or {}).get("outside", {}).items()})],
                     note=f"strict {NOT_ON_RELEASE}"))
    rows.append(_row("A1-A6", "auroc", "A*_baseline_results.json", None, None, [(WHOLE_DATA, None, {})],
                     note=f"{DESCRIPTIONS[WHOLE_DATA]}; {NOT_ON_RELEASE}"))
    return rows


def _nes_row(nes: dict) -> dict:
    published = nes.get("published_rank_correlation") or {}
    all_six = nes["rank_correlation"]
    strict_doc = nes.get("strict")
    strict = strict_doc["rank_correlation"] if strict_doc else None
    seed = round(published["rho"], 4) if _num(published.get("rho")) else None
    hard = nes["data"]
    points = [(NES_DROPPED, all_six["rho"], {"n_tissues_published": published.get("n"), "n_tissues": all_six["n"],
                                              "p_all_tissues": round(all_six["p"], 4) if _num(all_six.get("p")) else None})]
    if strict:
        diffs = [abs(hard[t]["transfer_auroc"] - v) for t, v in strict_doc["transfer_auroc"].items() if t in hard]
        points.append((NES_HARDCODED, strict["rho"], {"max_abs_auroc_rounding": round(max(diffs), 4) if diffs else 0.0,
                                                       "p_strict": round(strict["p"], 4) if _num(strict.get("p")) else None}))
    return _row("NES conservation vs B transfer", "spearman_rho", "NES_conservation_vs_transfer.json key_finding (5-tissue rho)",
                seed, strict["rho"] if strict else None, points,
                transfer_source=strict_doc["transfer_source"] if strict_doc else nes.get("strict_missing"),
                note="rank correlation: no CI; p given in the evidence")


def _nc1_rows(nc1: dict | None) -> list[dict]:
    if not nc1:
        return [_row("NC1", "perm_p", "NC1_permutation_summary.json", None, None, [(NC1_STALE_A4, None, {})],
                     note="published NC1 / evaluation files not found")]
    rows = []
    a4, missing = nc1.get("a4"), nc1.get("missing_d", {})
    if a4:
        rows.append(_row("NC1 A4 entry", "perm_p", "NC1_permutation_summary.json entries[A4].perm_p", a4["published_p"],
                         a4["source_mean_p"], [(NC1_STALE_A4, a4["source_mean_p"],
                                               {k: a4[k] for k in ("published_n_perm", "source_n_perm_per_fold", "reachable_minimum_p")}
                                               | {"verdict_flipped": int(a4["published_significant"] != a4["source_significant"])})],
                         note="strict: the mean of the source file's per-fold p (as NC1 aggregates); no CI"))
    n_d = nc1["published_n_d_entries"]
    rows.append(_row("NC1 D entries", "n_entries", "NC1_permutation_summary.json summary.by_category.D.n_entries", n_d,
                     n_d + len(missing), [(NC1_MISSING_D, n_d + len(missing),
                                           {"n_missing": len(missing), **{f"p_{k}": round(v, 4) for k, v in missing.items()}})]))
    flip = (-1 if a4["published_significant"] and not a4["source_significant"] else
            1 if a4["source_significant"] and not a4["published_significant"] else 0) if a4 else 0
    n_sig = nc1["published_n_significant"]
    new_sig = sum(v < ALPHA for v in missing.values())
    points = ([(NC1_STALE_A4, n_sig + flip, {"a4_flip": flip})] if a4 else []) + \
             [(NC1_MISSING_D, n_sig + flip + new_sig, {"n_missing_significant": new_sig})]
    rows.append(_row("NC1 significant entries", "n_significant", "NC1_permutation_summary.json summary.n_significant",
                     n_sig, n_sig + flip + new_sig, points))
    return rows


def render_markdown(rows: list[dict]) -> str:
    def fmt(v):
        if v is None:
            return "n/a"
        if isinstance(v, float):
            return f"{v:+.3f}" if v < 0 else f"{v:.3f}"
        return str(v)

    def ci(v):
        return "n/a" if not v else f"[{v[0]:.3f}, {v[1]:.3f}]"

    lines = [markdown_table(
        ["task", "metric", "seed", "strict", "strict CI", "strict - seed", "attributed move (defects in order)"],
        [[r["task"], r["metric"], fmt(r["seed"]), fmt(r["strict"]), ci(r["strict_ci"]), fmt(r["difference"]),
          r["defect"] or "-"] for r in rows])]
    lines += ["", "Defects, in the order they are applied:"]
    lines += [f"{i}. {SHORT_NAMES[k]}: {DESCRIPTIONS[k]}" for i, k in enumerate(ORDER, 1)]
    return "\n".join(lines)


def write_audit(out_dir: Path | str, rows: list[dict], evidence: dict | None = None) -> list[Path]:
    """``leakage_audit.json`` ({"order", "defects", "rows", "evidence"}) and ``leakage_audit.md`` in ``out_dir``."""
    from genebench_assets.science.storage.atomic_files import write_text

    doc = {"order": list(ORDER), "defects": DESCRIPTIONS, "rows": rows, "evidence": evidence or {}}
    out = Path(out_dir)
    return [write_text(json.dumps(doc, indent=2, default=str), out / "leakage_audit.json"),
            write_text("# Leakage audit: seed vs strict\n\n" + render_markdown(rows) + "\n", out / "leakage_audit.md")]
