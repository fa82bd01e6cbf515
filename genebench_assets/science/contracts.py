"""The data contracts of docs/ARCHITECTURE.md as pandera schemas, checked where tables are written.

`TableStore.write_frame` calls `check_contract(asset, df, path)` before anything reaches disk, so a
table that breaks its contract is never written and no downstream asset can read it. The Dagster
wiring shows the same schemas in the UI (defs/gating/contracts.py, via dagster-pandera).

Submissions are JSON, not tables: `science/evaluation/submission.py` validates them (every problem
named, per fold and sample); their scores end up in tables with the `predictions` contract.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from genebench_assets.science.osdr.group_labels import GROUPS

FINITE = pa.Check(lambda s: s.abs() != float("inf"), name="finite", ignore_na=True)
ANY = r".+"  # wide matrices: one column per sample (or per pathway), names unknown in advance

WHOLE = pa.Check(lambda s: s % 1 == 0, name="whole_number", ignore_na=True)


def _counts_schema(dtype: str, nullable: bool, description: str) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        name="counts", description=description,
        columns={ANY: pa.Column(dtype, [pa.Check.ge(0), WHOLE], regex=True, nullable=nullable,
                                description="one sample's read counts")},
        index=pa.Index(str, name="gene_id", unique=True, nullable=False))


COUNTS = _counts_schema("int64", False, "Raw counts of one study: genes x samples, int64, non-negative; "
                                        "index gene_id (Ensembl ids).")
# A pair merged from several studies (skin MHU-2: dorsal + femoral, SPEC §2) is outer-joined on gene id:
# a gene one study lacks stays missing (NaN, never 0), so the table is float64 with whole numbers.
MERGED_COUNTS = _counts_schema("float64", True, "Raw counts of a pair merged from several studies: genes x "
                                                "samples, float64 whole numbers >= 0, NaN where a study lacks the gene.")

SAMPLE_METADATA = pa.DataFrameSchema(
    name="sample_metadata",
    description="One row per sample of a study: identity, group, binary label, strain, QC, exclusion.",
    columns={
        **{c: pa.Column(str, nullable=False) for c in ("osd", "glds_prefix", "tissue", "mission", "source_file",
                                                         "group_raw")},
        "site": pa.Column(nullable=True, description="launch/housing site when the runsheet has one"),
        "group": pa.Column(str, pa.Check.isin(GROUPS), description="Flight / GC / VC / BC / AG"),
        "label": pa.Column(float, pa.Check.isin([0.0, 1.0]), nullable=True,
                           description="1.0 Flight, 0.0 GC/VC, NaN otherwise"),
        "strain": pa.Column(str, nullable=True),
        "library_size": pa.Column(checks=pa.Check.ge(0)),
        "n_detected_genes": pa.Column(checks=pa.Check.ge(0)),
        **{c: pa.Column(bool) for c in ("qc_low_library", "qc_low_genes", "qc_pca_outlier", "qc_near_duplicate",
                                        "excluded")},
        "exclusion_reason": pa.Column(str, nullable=False, description='"" when the sample is kept'),
    },
    index=pa.Index(str, name="sample_id", unique=True),
    checks=[
        # A binary label exists exactly for Flight (1) and GC/VC (0).
        pa.Check(lambda df: df["label"].isna() | ((df["label"] == 1.0) == (df["group"] == "Flight")),
                 name="label_matches_group", element_wise=False),
        pa.Check(lambda df: ~df["excluded"] | (df["exclusion_reason"] != ""), name="excluded_has_reason"),
    ],
)

EXPRESSION = pa.DataFrameSchema(
    name="expression",
    description="log2(normalized count + 1): genes x samples, float64; a gene absent from a study is NaN.",
    columns={ANY: pa.Column("float64", [pa.Check.ge(0), FINITE], regex=True, nullable=True,
                            description="one sample's log2 expression")},
    index=pa.Index(str, name="gene_id", unique=True),
)

PATHWAY_SCORES = pa.DataFrameSchema(
    name="pathway_scores",
    description="Pathway scores: pathways x samples, float64, finite.",
    columns={ANY: pa.Column("float64", FINITE, regex=True, nullable=True, description="one sample's pathway scores")},
    index=pa.Index(str, unique=True),
)

PREDICTIONS = pa.DataFrameSchema(
    name="predictions",
    description="One score per (fold, feature set, model, test sample); higher = more Flight-like.",
    columns={
        "fold_id": pa.Column(str), "test_mission": pa.Column(str), "feature_set": pa.Column(str),
        "model": pa.Column(str), "sample_id": pa.Column(str),
        "score": pa.Column(float, FINITE, nullable=False),
        # only with more than one seed (ModelSettings.seeds): each seed a full run of the fits
        "seed": pa.Column(int, required=False),
    },
    # unique per (fold, feature set, model, sample) and, when there is a seed column, per seed
    checks=pa.Check(lambda df: not df.duplicated([c for c in ("fold_id", "feature_set", "model", "sample_id", "seed")
                                                  if c in df.columns]).any(),
                    name="unique_per_fold_feature_set_model_sample_seed"),
)

# Which contract each stored asset's tables follow (TableStore asset names).
CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "raw_counts": COUNTS,
    "sample_metadata": SAMPLE_METADATA,
    "normalized_expression": EXPRESSION,
    "pathway_scores": PATHWAY_SCORES,
    "model_predictions": PREDICTIONS,
}


class ContractError(ValueError):
    """A table broke its data contract; the message names the file, the field and the value."""


def check_contract(asset: str, df: pd.DataFrame, where: str | Path = "") -> None:
    """Raise ContractError (one line) if `df` breaks the contract of `asset`; no-op for other assets."""
    schema = CONTRACTS.get(asset)
    if schema is COUNTS and len(df.attrs.get("merged_from", ())) > 1:
        schema = MERGED_COUNTS
    if schema is None:
        return
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        # Column-level failures first: they name a field and a value; table-level checks name a row.
        cases = cases.assign(_table=cases["schema_context"] == "DataFrameSchema").sort_values("_table", kind="stable")
        first = cases.iloc[0]
        row = f", row {first['index']!s}" if pd.notna(first["index"]) else ""
        if first["_table"]:
            what = f"row {first['index']!s}" if pd.notna(first["index"]) else f"the table ({first['failure_case']!s})"
        elif first["schema_context"] == "Index":
            what = f"index value {first['failure_case']!s}"
        else:
            what = f"field {first['column']!r}{row}: value {first['failure_case']!s}"
        n_rows = cases["index"].nunique()
        more = f" ({n_rows} rows fail)" if n_rows > 1 else ""
        raise ContractError(f"{where or asset}: {schema.name} contract broken: {what} fails {first['check']}{more}") from None
