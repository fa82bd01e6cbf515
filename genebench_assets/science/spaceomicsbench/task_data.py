"""Features and labels of each SpaceOmicsBench task, with the record of how their rows were paired.

Two protocols (SPEC §11/§12):

- ``seed`` builds each task exactly as the published ``run_baselines.py`` does, including its
  positional pairings (A1's two clinical files, E1-E4's feature and label files, F4/F5's pathway
  columns against the metadata rows, G1's three modalities, B2's correlation and cluster files).
  Nothing is hidden: every feature row keeps the id it came with (``feature_ids`` per source file)
  beside the id of the label row it was paired with (``label_ids``), so the split check
  ``row_ids_match`` shows where the pairing is wrong (F4: 3 of 275 rows carry the same sample id).
- ``strict`` joins every feature source onto the label rows by id (polars), never by position, and
  reports per join the ids matched, dropped and duplicated.

Row order is the label table's order ("canonical" order): the published split files hold positional
indices into it, and ``splits.folds_from_split`` turns them into row ids once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from genebench_assets.science.protocols import PROTOCOLS
from genebench_assets.science.spaceomicsbench.task_definitions import TaskDefinition, missing_files

CLINICAL_META = ["sample_id", "crew", "tissue", "timepoint", "timepoint_days", "phase", "mission"]
PROTEOMICS_META = CLINICAL_META + ["month_tp"]
TAXONOMY_COLS = ["taxid", "domain", "phylum", "class", "order", "family", "genus", "species"]
METABOLITE_ANNOTATIONS = ["SuperPathway", "SubPathway", "metabolite_name", "annotation_confidence", "Formula",
                          "Mass", "RT", "CAS ID", "Mode", "KEGG", "HMDB"]
SPATIAL_LAYERS = {"E1": "outer_epidermis", "E2": "inner_epidermis", "E3": "outer_dermis", "E4": "epidermis"}
SEED_PCA_COMPONENTS = {"C1": 10, "G1": 8}


class TaskUnavailable(Exception):
    """The task's data files are not in the data directory; the message lists them."""


@dataclass
class TaskData:
    """One task's rows. ``X`` row i is paired with label row i; ``label_ids[i]`` is that label row's
    id and ``feature_ids[source][i]`` the id the feature row carried in ``source``."""

    task_id: str
    protocol: str
    task_type: str
    X: np.ndarray
    feature_names: list[str]
    y: np.ndarray                       # (n,) class labels, or (n, L) 0/1 for multilabel
    label_ids: list[str]
    feature_ids: dict[str, list[str]]
    groups: pd.DataFrame                # per row: crew / timepoint where the task has them
    label_names: list[str] | None = None
    pca: dict | None = None             # {"n_components": k} or {"n_clinical": c, "groups": [...]}
    join_report: list[dict] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    # Ids of the label table in its file order, before any join dropped rows: what the split
    # files' positional indices point into. None: the same as ``label_ids``.
    canonical_ids: list[str] | None = None

    def canonical(self) -> list[str]:
        return self.canonical_ids if self.canonical_ids is not None else self.label_ids

    @property
    def n_rows(self) -> int:
        return len(self.label_ids)

    def class_balance(self) -> dict[str, int]:
        if self.y.ndim == 2:
            return {name: int(v) for name, v in zip(self.label_names or [], self.y.sum(axis=0))}
        vals, counts = np.unique(self.y.astype(str), return_counts=True)
        return {str(v): int(c) for v, c in zip(vals, counts)}

    def rows_frame(self) -> pd.DataFrame:
        """Ids, groups and targets as one table (what the store keeps beside ``X``)."""
        df = pd.DataFrame({"label_id": self.label_ids})
        for src, ids in self.feature_ids.items():
            df[f"feature_id:{src}"] = ids
        for col in self.groups.columns:
            df[f"group:{col}"] = self.groups[col].astype(str).to_numpy()
        if self.y.ndim == 2:
            for j, name in enumerate(self.label_names or []):
                df[f"y:{name}"] = self.y[:, j].astype(int)
        else:
            df["y"] = self.y
        return df

    def spec(self) -> dict:
        return {"task_id": self.task_id, "protocol": self.protocol, "task_type": self.task_type,
                "feature_names": self.feature_names, "label_names": self.label_names, "pca": self.pca,
                "join_report": self.join_report, "defects": self.defects, "canonical_ids": self.canonical_ids}

    @classmethod
    def from_stored(cls, X: pd.DataFrame, rows: pd.DataFrame, spec: dict) -> "TaskData":
        label_names = spec.get("label_names")
        if spec["task_type"] == "multilabel_classification":
            y = rows[[f"y:{n}" for n in label_names]].to_numpy(dtype=int)
        else:
            y = rows["y"].to_numpy()
        feature_ids = {c.split(":", 1)[1]: rows[c].astype(str).tolist() for c in rows.columns
                       if c.startswith("feature_id:")}
        groups = pd.DataFrame({c.split(":", 1)[1]: rows[c].to_numpy() for c in rows.columns
                               if c.startswith("group:")})
        return cls(task_id=spec["task_id"], protocol=spec["protocol"], task_type=spec["task_type"],
                   X=X.to_numpy(dtype=float), feature_names=spec["feature_names"], y=y,
                   label_ids=rows["label_id"].astype(str).tolist(), feature_ids=feature_ids, groups=groups,
                   label_names=label_names, pca=spec.get("pca"), join_report=spec.get("join_report", []),
                   defects=spec.get("defects", []), canonical_ids=spec.get("canonical_ids"))


# --------------------------------------------------------------------------------------------
# joins and their reports
# --------------------------------------------------------------------------------------------

def unique_ids(ids) -> list[str]:
    """Ids made unique by occurrence (``X``, ``X#2``, ...): a row keeps one id through the splits
    even when a file repeats a gene; the join report lists such ids."""
    seen: dict[str, int] = {}
    out = []
    for i in map(str, ids):
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}#{seen[i]}")
    return out


def _dups(ids) -> list[str]:
    s = pd.Series(list(map(str, ids)))
    return sorted(s[s.duplicated()].unique().tolist())


def positional_report(left_name: str, left_ids, right_name: str, right_ids, key: str) -> dict:
    """What a positional pairing did: how many row pairs carry the same id (the seed's pairings)."""
    left_ids, right_ids = list(map(str, left_ids)), list(map(str, right_ids))
    n = min(len(left_ids), len(right_ids))
    same = sum(a == b for a, b in zip(left_ids[:n], right_ids[:n]))
    ls, rs = set(left_ids), set(right_ids)
    return {"join": f"{left_name} | {right_name} by row position", "key": key, "how": "position",
            "left_rows": len(left_ids), "right_rows": len(right_ids), "paired_rows": n,
            "positional_id_matches": same, "aligned": same == n,
            "ids_matched": len(ls & rs), "dropped_left": sorted(ls - rs)[:50], "dropped_right": sorted(rs - ls)[:50],
            "duplicated_left": _dups(left_ids), "duplicated_right": _dups(right_ids)}


def id_join(left: pd.DataFrame, right: pd.DataFrame, key: str, left_name: str, right_name: str,
            ) -> tuple[pd.DataFrame, dict]:
    """Left rows (canonical order) joined with right rows on ``key`` (inner, polars). Duplicated
    keys on the right would multiply rows, so they fail here, naming the file and the ids."""
    dup_r = _dups(right[key])
    if dup_r:
        raise ValueError(f"{right_name}: field '{key}' has duplicated ids, a join would multiply rows "
                         f"(value: {dup_r[:5]})")
    lp = pl.from_pandas(left.reset_index(drop=True)).with_row_index("__order")
    rp = pl.from_pandas(right.reset_index(drop=True)).with_row_index("__right_row")
    joined = lp.join(rp, on=key, how="inner", suffix="__right").sort("__order").drop("__order", "__right_row")
    ls, rs = set(map(str, left[key])), set(map(str, right[key]))
    report = {"join": f"{left_name} ⋈ {right_name} on {key}", "key": key, "how": "id",
              "left_rows": len(left), "right_rows": len(right), "ids_matched": len(ls & rs),
              "joined_rows": joined.height,
              "dropped_left": sorted(ls - rs), "dropped_right": sorted(rs - ls),
              "duplicated_left": _dups(left[key]), "duplicated_right": dup_r,
              "positional_id_matches": int(sum(a == b for a, b in zip(map(str, left[key]), map(str, right[key]))))}
    return joined.to_pandas(), report


# --------------------------------------------------------------------------------------------
# per task
# --------------------------------------------------------------------------------------------

def _read(data_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / name)


def _formula_atoms(formula) -> list[int]:
    """Counts of C, H, N, O, S, P in a formula as the seed counts them (every ``<symbol><digits>``
    match, so the C of Cl counts as carbon, as published)."""
    atoms = {"C": 0, "H": 0, "N": 0, "O": 0, "S": 0, "P": 0}
    if not isinstance(formula, str):
        return list(atoms.values())
    for sym in atoms:
        atoms[sym] = sum(int(d) if d else 1 for d in re.findall(rf"{sym}(\d*)", formula))
    return list(atoms.values())


def _no_groups(n: int) -> pd.DataFrame:
    return pd.DataFrame(index=range(n))


def _single_table(task: TaskDefinition, protocol: str, df: pd.DataFrame, id_col: str, feature_cols: list[str],
                  y: np.ndarray, source: str, groups: pd.DataFrame | None = None, X=None) -> TaskData:
    ids = unique_ids(df[id_col])
    report = [{"join": f"{source}: features and labels from the same rows", "key": id_col, "how": "same_rows",
               "left_rows": len(df), "ids_matched": len(set(ids)), "duplicated_left": _dups(df[id_col]),
               "dropped_left": [], "dropped_right": []}]
    X = df[feature_cols].to_numpy(dtype=float) if X is None else X
    return TaskData(task.task_id, protocol, task.task_type, X, list(feature_cols), y, ids, {source: ids},
                    groups if groups is not None else _no_groups(len(df)), join_report=report)


def _clinical(task, protocol, d):
    cbc = _read(d, "clinical_cbc.csv")
    groups = lambda df: pd.DataFrame({"crew": df["crew"].astype(str).to_numpy(),  # noqa: E731
                                      "timepoint": df["timepoint"].astype(str).to_numpy()})
    if task.task_id == "A2":
        cyt = _read(d, "clinical_cytokines_eve.csv")
        feats = [c for c in cyt.columns if c not in CLINICAL_META]
        return _single_table(task, protocol, cyt, "sample_id", feats, cyt["phase"].to_numpy(),
                             "clinical_cytokines_eve.csv", groups(cyt))
    cmp_ = _read(d, "clinical_cmp.csv")
    f_cbc = [c for c in cbc.columns if c not in CLINICAL_META]
    f_cmp = [c for c in cmp_.columns if c not in CLINICAL_META]
    if protocol == "seed":
        X = np.hstack([cbc[f_cbc].to_numpy(dtype=float), cmp_[f_cmp].to_numpy(dtype=float)])
        rep = positional_report("clinical_cbc.csv", cbc["sample_id"], "clinical_cmp.csv", cmp_["sample_id"], "sample_id")
        data = TaskData(task.task_id, protocol, task.task_type, X, f_cbc + f_cmp, cbc["phase"].to_numpy(),
                        cbc["sample_id"].astype(str).tolist(),
                        {"clinical_cbc.csv": cbc["sample_id"].astype(str).tolist(),
                         "clinical_cmp.csv": cmp_["sample_id"].astype(str).tolist()},
                        groups(cbc), join_report=[rep])
        data.defects.append("seed joins clinical_cbc.csv and clinical_cmp.csv by row position "
                            f"({'aligned' if rep['aligned'] else 'MISALIGNED'}: "
                            f"{rep['positional_id_matches']}/{rep['paired_rows']} rows carry the same sample_id)")
        return data
    joined, rep = id_join(cbc, cmp_[["sample_id"] + f_cmp], "sample_id", "clinical_cbc.csv", "clinical_cmp.csv")
    ids = joined["sample_id"].astype(str).tolist()
    X = np.hstack([joined[f_cbc].to_numpy(dtype=float), joined[f_cmp].to_numpy(dtype=float)])
    return TaskData(task.task_id, protocol, task.task_type, X, f_cbc + f_cmp, joined["phase"].to_numpy(), ids,
                    {"clinical_cbc.csv": ids, "clinical_cmp.csv": joined["sample_id"].astype(str).tolist()},
                    groups(joined), join_report=[rep], canonical_ids=cbc["sample_id"].astype(str).tolist())


def _b2(task, protocol, d):
    corr = _read(d, "gt_cfrna_correlation.csv")
    lab = _read(d, "gt_cfrna_cluster_labels.csv")
    gene_c, gene_l = corr.columns[0], lab.columns[0]
    label_cols = [c for c in lab.columns if c != gene_l]
    feats = [c for c in corr.columns if c != gene_c]
    if protocol == "seed":
        rep = positional_report("gt_cfrna_correlation.csv", corr[gene_c], "gt_cfrna_cluster_labels.csv",
                                lab[gene_l], "gene")
        data = TaskData(task.task_id, protocol, task.task_type, corr[feats].to_numpy(dtype=float), feats,
                        lab[label_cols].to_numpy(dtype=int), unique_ids(lab[gene_l]),
                        {"gt_cfrna_correlation.csv": unique_ids(corr[gene_c])}, _no_groups(len(lab)),
                        label_names=label_cols, join_report=[rep])
        data.defects.append(f"seed pairs correlation rows with cluster-label rows by position "
                            f"({'aligned' if rep['aligned'] else 'MISALIGNED'})")
        return data
    right = corr.rename(columns={gene_c: "__gene"})
    left = lab.rename(columns={gene_l: "__gene"})
    joined, rep = id_join(left[["__gene"] + label_cols], right, "__gene", "gt_cfrna_cluster_labels.csv",
                          "gt_cfrna_correlation.csv")
    feats_j = [f"{c}__right" if f"{c}__right" in joined.columns else c for c in feats]
    ids = joined["__gene"].astype(str).tolist()
    return TaskData(task.task_id, protocol, task.task_type, joined[feats_j].to_numpy(dtype=float), feats,
                    joined[[c for c in label_cols]].to_numpy(dtype=int), ids, {"gt_cfrna_correlation.csv": ids},
                    _no_groups(len(joined)), label_names=label_cols, join_report=[rep],
                    canonical_ids=unique_ids(lab[gene_l]))


def _c1(task, protocol, d):
    m = _read(d, "proteomics_plasma_matrix.csv")
    prot = [c for c in m.columns if c not in PROTEOMICS_META]
    X = m[prot].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float)
    data = _single_table(task, protocol, m, "sample_id", prot, m["phase"].to_numpy(), "proteomics_plasma_matrix.csv",
                         pd.DataFrame({"crew": m["crew"].astype(str), "timepoint": m["timepoint"].astype(str)}), X=X)
    data.pca = {"n_components": min(SEED_PCA_COMPONENTS["C1"], len(m) - 1)}
    return data


def _c2(task, protocol, d):
    plasma = _read(d, "proteomics_plasma_de_clean.csv")
    evp = _read(d, "proteomics_evp_de_clean.csv")
    # Both protocols pair by gene (the seed does too, via sorted overlap + .loc); rows in sorted gene order.
    overlap = pd.DataFrame({"gene": sorted(set(plasma["gene"]) & set(evp["gene"]))})
    left, rep_p = id_join(overlap, plasma[["gene", "logFC", "AveExpr", "t", "B"]], "gene", "gene overlap",
                          "proteomics_plasma_de_clean.csv")
    joined, rep_e = id_join(left, evp[["gene", "adj_pval"]], "gene", "proteomics_plasma_de_clean.csv",
                            "proteomics_evp_de_clean.csv")
    ids = joined["gene"].astype(str).tolist()
    y = (joined["adj_pval"] < 0.05).astype(int).to_numpy()
    return TaskData(task.task_id, protocol, task.task_type, joined[["logFC", "AveExpr", "t", "B"]].to_numpy(dtype=float),
                    ["logFC", "AveExpr", "t", "B"], y, ids,
                    {"proteomics_plasma_de_clean.csv": ids, "proteomics_evp_de_clean.csv": ids},
                    _no_groups(len(joined)), join_report=[rep_p, rep_e])


def _d1(task, protocol, d):
    df = _read(d, "metabolomics_spaceflight_response.csv")
    parts = [df[["Mass", "RT", "annotation_confidence"]].fillna(0).to_numpy(dtype=float)]
    names = ["Mass", "RT", "annotation_confidence"]
    for col, prefix in (("SuperPathway", "SP"), ("SubPathway", "sub")):
        dummies = pd.get_dummies(df[col], prefix=prefix)
        parts.append(dummies.to_numpy(dtype=float))
        names += list(dummies.columns)
    parts.append(np.array([_formula_atoms(f) for f in df["Formula"]], dtype=float))
    names += [f"atoms_{a}" for a in "CHNOSP"]
    return _single_table(task, protocol, df, "metabolite", names, df["is_spaceflight_de"].astype(int).to_numpy(),
                         "metabolomics_spaceflight_response.csv", X=np.hstack(parts))


def _spatial(task, protocol, d):
    layer_file = f"gt_spatial_de_{SPATIAL_LAYERS[task.task_id]}.csv"
    feats = ["baseMean", "log2FoldChange", "lfcSE"]
    allskin = _read(d, "gt_spatial_de_all_skin.csv")
    layer = _read(d, layer_file)
    if protocol == "seed":
        rep = positional_report(layer_file, layer["gene"], "gt_spatial_de_all_skin.csv", allskin["gene"], "gene")
        data = TaskData(task.task_id, protocol, task.task_type, allskin[feats].to_numpy(dtype=float), feats,
                        (layer["adj_pval"].fillna(1.0) < 0.05).astype(int).to_numpy(), unique_ids(layer["gene"]),
                        {"gt_spatial_de_all_skin.csv": unique_ids(allskin["gene"])}, _no_groups(len(layer)),
                        join_report=[rep])
        data.defects.append(f"seed pairs {layer_file} labels with all_skin features by row position "
                            f"({'aligned' if rep['aligned'] else 'MISALIGNED'}: "
                            f"{rep['positional_id_matches']}/{rep['paired_rows']} rows carry the same gene)")
        return data
    joined, rep = id_join(layer[["gene", "adj_pval"]], allskin[["gene"] + feats], "gene", layer_file,
                          "gt_spatial_de_all_skin.csv")
    ids = joined["gene"].astype(str).tolist()
    return TaskData(task.task_id, protocol, task.task_type, joined[feats].to_numpy(dtype=float), feats,
                    (joined["adj_pval"].fillna(1.0) < 0.05).astype(int).to_numpy(), ids,
                    {"gt_spatial_de_all_skin.csv": ids}, _no_groups(len(joined)), join_report=[rep],
                    canonical_ids=unique_ids(layer["gene"]))


def _microbiome_pathways(task, protocol, d):
    path = _read(d, "microbiome_human_pathways_cpm.csv")
    md = _read(d, "microbiome_metadata.csv")
    human = md[md["source"] == "human"].reset_index(drop=True)
    target = "body_site" if task.task_id == "F4" else "phase"
    pcol = path.columns[0]
    samples = [c for c in path.columns if c != pcol]
    feats = path[pcol].astype(str).tolist()
    groups = lambda df: pd.DataFrame({"crew": df["crew"].astype(str).to_numpy(),  # noqa: E731
                                      "timepoint": df["timepoint"].astype(str).to_numpy()})
    if protocol == "seed":
        human_ids = set(human["sample_id"])
        valid = [c for c in samples if c in human_ids or any(c.startswith(k) for k in ("C001", "C002", "C003", "C004"))]
        cols = valid[:275]
        X = path[cols].T.to_numpy(dtype=float)
        lab = human.iloc[:X.shape[0]]
        rep = positional_report("microbiome_metadata.csv (human rows)", lab["sample_id"],
                                "microbiome_human_pathways_cpm.csv (columns)", cols, "sample_id")
        data = TaskData(task.task_id, protocol, task.task_type, X, feats, lab[target].to_numpy(),
                        lab["sample_id"].astype(str).tolist(), {"microbiome_human_pathways_cpm.csv": list(cols)},
                        groups(lab), join_report=[rep])
        data.defects.append(f"seed pairs pathway columns with metadata rows by position: MISALIGNED, "
                            f"{rep['positional_id_matches']}/{rep['paired_rows']} rows carry the same sample_id"
                            if not rep["aligned"] else "seed pairs by position (aligned)")
        return data
    wide = path.set_index(pcol)[samples].T
    wide.columns = [f"f{i}" for i in range(wide.shape[1])]
    wide = wide.rename_axis("sample_id").reset_index()
    joined, rep = id_join(human[["sample_id", "crew", "timepoint", target]], wide, "sample_id",
                          "microbiome_metadata.csv (human rows)", "microbiome_human_pathways_cpm.csv (columns)")
    ids = joined["sample_id"].astype(str).tolist()
    X = joined[[f"f{i}" for i in range(len(feats))]].to_numpy(dtype=float)
    return TaskData(task.task_id, protocol, task.task_type, X, feats, joined[target].to_numpy(), ids,
                    {"microbiome_human_pathways_cpm.csv": ids}, groups(joined), join_report=[rep],
                    canonical_ids=human["sample_id"].astype(str).tolist())


def _g1(task, protocol, d):
    cbc = _read(d, "clinical_cbc.csv")
    cmp_ = _read(d, "clinical_cmp.csv")
    prot = _read(d, "proteomics_plasma_matrix.csv")
    met = _read(d, "metabolomics_anppos_matrix.csv")
    prot_meta = _read(d, "proteomics_metadata.csv")
    met_meta = _read(d, "metabolomics_metadata.csv")
    key = lambda df: (df["crew"].astype(str) + "|" + df["timepoint_days"].astype(str)).tolist()  # noqa: E731
    plasma_meta = prot_meta[prot_meta["tissue"] == "plasma"]
    matched = sorted(set(zip(cbc["crew"], cbc["timepoint_days"])) & set(zip(plasma_meta["crew"], plasma_meta["timepoint_days"]))
                     & set(zip(met_meta["crew"], met_meta["timepoint_days"])))
    mset = set(matched)
    f_cbc = [c for c in cbc.columns if c not in CLINICAL_META]
    f_cmp = [c for c in cmp_.columns if c not in CLINICAL_META]
    f_prot = [c for c in prot.columns if c not in PROTEOMICS_META]
    met_samples = [c for c in met.columns if c not in METABOLITE_ANNOTATIONS]
    prot_vals = prot[f_prot].apply(pd.to_numeric, errors="coerce").fillna(0)
    met_vals = met[met_samples].apply(pd.to_numeric, errors="coerce").fillna(0).T   # samples x metabolites
    met_key = dict(zip(met_meta["sample_id"].astype(str), key(met_meta)))
    mask = [(c, t) in mset for c, t in zip(cbc["crew"], cbc["timepoint_days"])]
    cbc_m, cmp_m = cbc[mask].reset_index(drop=True), cmp_[mask].reset_index(drop=True)
    groups = pd.DataFrame({"crew": cbc_m["crew"].astype(str).to_numpy(), "timepoint": cbc_m["timepoint"].astype(str).to_numpy()})
    label_ids = key(cbc_m)
    canonical = list(label_ids)
    n_met = met_vals.shape[1]
    if protocol == "seed":
        prot_rows = [i for i, (c, t) in enumerate(zip(prot["crew"], prot["timepoint_days"])) if (c, t) in mset]
        met_rows = [s for s in met_samples if any(s.startswith(c) for c, _ in matched)][:len(cbc_m)]
        X = np.hstack([cbc_m[f_cbc].to_numpy(dtype=float), cmp_m[f_cmp].to_numpy(dtype=float),
                       prot_vals.iloc[prot_rows].to_numpy(), met_vals.loc[met_rows].to_numpy()])
        prot_ids = key(prot.iloc[prot_rows])
        met_ids = [met_key.get(s, s) for s in met_rows]
        reports = [positional_report("clinical_cbc.csv", key(cbc_m), "clinical_cmp.csv", key(cmp_m), "crew|timepoint_days"),
                   positional_report("clinical_cbc.csv", label_ids, "proteomics_plasma_matrix.csv", prot_ids, "crew|timepoint_days"),
                   positional_report("clinical_cbc.csv", label_ids, "metabolomics_anppos_matrix.csv", met_ids, "crew|timepoint_days")]
        feature_ids = {"clinical_cbc.csv": label_ids, "clinical_cmp.csv": key(cmp_m),
                       "proteomics_plasma_matrix.csv": prot_ids, "metabolomics_anppos_matrix.csv": met_ids}
        defects = [f"seed pairs {r['join'].split(' | ')[1].split(' by')[0]} rows with clinical rows by position: "
                   f"{r['positional_id_matches']}/{r['paired_rows']} rows carry the same crew|timepoint_days"
                   for r in reports[1:] if not r["aligned"]]
    else:
        base = pd.DataFrame({"key": label_ids})
        cl = pd.concat([base, cbc_m[f_cbc], cmp_m[f_cmp]], axis=1)
        pr = pd.concat([pd.DataFrame({"key": key(prot)}), prot_vals.set_axis([f"p{i}" for i in range(len(f_prot))], axis=1)], axis=1)
        pr = pr[pr["key"].isin(set(label_ids))]
        me = met_vals.set_axis([f"m{i}" for i in range(n_met)], axis=1)
        me.insert(0, "key", [met_key.get(s, s) for s in me.index])
        j1, r1 = id_join(cl, pr, "key", "clinical_cbc.csv + clinical_cmp.csv", "proteomics_plasma_matrix.csv")
        joined, r2 = id_join(j1, me.reset_index(drop=True), "key", "clinical + proteomics", "metabolomics_anppos_matrix.csv")
        label_ids = joined["key"].astype(str).tolist()
        X = np.hstack([joined[f_cbc + f_cmp].to_numpy(dtype=float), joined[[f"p{i}" for i in range(len(f_prot))]].to_numpy(),
                       joined[[f"m{i}" for i in range(n_met)]].to_numpy()])
        keep = [k in set(label_ids) for k in key(cbc_m)]
        cbc_m, groups = cbc_m[keep].reset_index(drop=True), groups[keep].reset_index(drop=True)
        feature_ids = {"clinical_cbc.csv": label_ids, "clinical_cmp.csv": label_ids,
                       "proteomics_plasma_matrix.csv": label_ids, "metabolomics_anppos_matrix.csv": label_ids}
        reports, defects = [r1, r2], []
    n_cl = len(f_cbc) + len(f_cmp)
    n_rows = X.shape[0]
    pca = {"n_clinical": n_cl, "groups": [
        {"start": n_cl, "end": n_cl + len(f_prot), "n_components": min(SEED_PCA_COMPONENTS["G1"], n_rows - 1, len(f_prot))},
        {"start": n_cl + len(f_prot), "end": n_cl + len(f_prot) + n_met,
         "n_components": min(SEED_PCA_COMPONENTS["G1"], n_rows - 1, n_met)}]}
    names = f_cbc + f_cmp + f_prot + [f"metabolite:{m}" for m in met["metabolite_name"].astype(str)]
    return TaskData(task.task_id, protocol, task.task_type, X, names, cbc_m["phase"].to_numpy(), label_ids,
                    feature_ids, groups, pca=pca, join_report=reports, defects=defects,
                    canonical_ids=canonical if protocol == "strict" else None)


def _table_task(file: str, id_col: str, feats: list[str], target: str):
    def build(task, protocol, d):
        df = _read(d, file)
        return _single_table(task, protocol, df, id_col, feats, df[target].astype(int).to_numpy(), file)
    return build


_BUILDERS = {
    "A1": _clinical, "A2": _clinical, "B2": _b2, "C1": _c1, "C2": _c2, "D1": _d1,
    "E1": _spatial, "E2": _spatial, "E3": _spatial, "E4": _spatial, "F4": _microbiome_pathways,
    "F5": _microbiome_pathways, "G1": _g1,
    "H1": _table_task("conserved_pbmc_to_skin.csv", "human_gene",
                      ["CD4_T", "CD8_T", "other_T", "B", "NK", "CD14_Mono", "CD16_Mono", "DC", "other"], "skin_de"),
    "I1": _table_task("cross_mission_hemoglobin_de.csv", "gene",
                      ["fc_pre_vs_flight", "fc_pre_vs_post", "fc_flight_vs_post"], "label"),
    "I2": _table_task("cross_mission_pathway_features.csv", "pathway",
                      ["mean_NES", "std_NES", "mean_ES", "mean_padj", "min_padj", "n_celltypes", "mean_size",
                       "direction_consistency"], "label"),
    "I3": _table_task("cross_mission_gene_de.csv", "gene",
                      ["mean_abs_log2fc", "max_abs_log2fc", "mean_base_expr", "mean_lfcSE", "mean_abs_wald",
                       "n_cell_types", "n_contrasts", "n_total_deg_entries", "direction_consistency"], "label"),
}


def build_task_data(task: TaskDefinition, data_dir: str | Path, protocol: str) -> TaskData:
    """The task's rows under ``protocol``; raises ``TaskUnavailable`` naming the missing files."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol: unknown value {protocol!r}; expected one of {PROTOCOLS}")
    data_dir = Path(data_dir)
    missing = missing_files(task, data_dir)
    if missing:
        raise TaskUnavailable(f"unavailable: {', '.join(missing)}")
    if task.task_id not in _BUILDERS:
        raise TaskUnavailable(f"unavailable: no loader for task {task.task_id}")
    data = _BUILDERS[task.task_id](task, protocol, data_dir)
    if len(data.label_ids) != data.X.shape[0]:
        raise ValueError(f"{task.task_id}: {data.X.shape[0]} feature rows for {len(data.label_ids)} label rows")
    return data
