"""A task's leaderboard: the stored results records beside the published baselines, ranked by the
task's metric (higher is better), each row labelled with what it is (published / reproduction /
built-in / plug-in / submission / embeddings). A record made over several seeds (``--seeds``) shows its mean,
the sd over seeds and the seeds; published rows have neither."""

from __future__ import annotations

from pathlib import Path

from genebench_assets.science.results.published import published_rows

COLUMNS = ("rank", "model", "kind", "protocol", "feature_set", "metric", "value", "sd_over_seeds", "seeds", "ci_lower",
           "go", "source")


def record_row(record: dict) -> dict:
    s = record["summary"]
    return {"model": record["model"], "kind": record["kind"], "protocol": record["protocol"],
            "feature_set": record.get("feature_set"), "metric": record["metric"], "value": s.get("mean"),
            "sd_over_seeds": s.get("sd_over_seeds"), "seeds": list(record.get("seeds") or []) or None,
            "ci_lower": s.get("mean_ci_lower"), "go": record.get("go"), "source": record["record_id"]}


def leaderboard(benchmark: str, task: str, records: list[dict], *, published_dir: Path | None = None,
                soma_dir: Path | None = None, include_published: bool = True) -> list[dict]:
    recs = [r for r in records if r["benchmark"] == benchmark and r["task"] == task]
    metric = recs[0]["metric"] if recs else None
    rows = [record_row(r) for r in recs]
    if include_published:
        rows += published_rows(benchmark, task, published_dir=published_dir, soma_dir=soma_dir, metric=metric)
    rows.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0.0), r["kind"], r["model"]))
    out = []
    for i, r in enumerate(rows, 1):
        row = {c: r.get(c) for c in COLUMNS}
        row["rank"] = i
        out.append(row)
    return out


def render_table(rows: list[dict], fmt: str = "github") -> str:
    from tabulate import tabulate

    def cell(v):
        if isinstance(v, float):
            return f"{v:.4f}"
        if isinstance(v, bool):
            return "GO" if v else "NO-GO"
        if isinstance(v, list):
            return ",".join(map(str, v))
        return "" if v is None else v

    shown = [c for c in COLUMNS if c != "source"]
    return tabulate([[cell(r[c]) for c in shown] for r in rows], headers=list(shown), tablefmt=fmt)


def seed_vs_strict(records: list[dict]) -> list[dict]:
    """For each (benchmark, task, model, feature set, kind) scored under both protocols: the two
    means and the move strict - seed (the newest record of each protocol)."""
    newest: dict[tuple, dict] = {}
    for r in sorted(records, key=lambda r: r["date"]):
        newest[(r["benchmark"], r["task"], r["model"], r.get("feature_set"), r["kind"], r["protocol"])] = r
    out = []
    for (b, t, m, fs, k, p), r in sorted(newest.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        if p != "seed" or (b, t, m, fs, k, "strict") not in newest:
            continue
        strict = newest[(b, t, m, fs, k, "strict")]
        seed_v, strict_v = r["summary"]["mean"], strict["summary"]["mean"]
        out.append({"benchmark": b, "task": t, "model": m, "feature_set": fs, "kind": k, "metric": r["metric"],
                    "seed": seed_v, "strict": strict_v, "move": strict_v - seed_v})
    return out
