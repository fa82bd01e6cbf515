"""``genebench report --out DIR``: one self-contained ``DIR/index.html`` (images inline as base64
PNG, no server): the task list, each task's leaderboard (published and user rows), pooled ROC curves
of the records that carry them, and the seed-vs-strict audit."""

from __future__ import annotations

import base64
import datetime as _dt
from collections import defaultdict
from pathlib import Path

from genebench_assets.science.results.leaderboard import COLUMNS, leaderboard, seed_vs_strict

KIND_COLORS = {"published": "#888888", "reproduction": "#4c72b0", "built-in": "#55a868", "plug-in": "#c44e52",
               "submission": "#dd8452", "embeddings": "#8172b3"}


def leaderboard_chart_png(rows: list[dict], title: str) -> bytes | None:
    from genebench_assets.science.evaluation.plots import bar_png

    rows = [r for r in rows if r["value"] is not None][:30]
    if not rows:
        return None
    labels = [f"{r['model']}" + (f" [{r['feature_set']}]" if r.get("feature_set") else "") + f" ({r['kind']}"
              + ("" if r["kind"] == "published" else f", {r['protocol']}") + ")" for r in rows]
    return bar_png(labels, [r["value"] for r in rows], title=title, xlabel=rows[0]["metric"],
                   colors=[KIND_COLORS.get(r["kind"], "#333333") for r in rows])


def _b64(png: bytes | None) -> str | None:
    return base64.b64encode(png).decode() if png else None


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genebench report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
th { background: #f2f2f2; } .unavailable { color: #999; } .kind-published { color: #555; }
.kind-built-in, .kind-plug-in, .kind-submission, .kind-embeddings, .kind-reproduction { font-weight: bold; }
</style></head><body>
<h1>genebench report</h1>
<p>Generated {{ generated }} from {{ n_records }} results record(s) in <code>{{ data_dir }}</code>.
Published rows are read from the published result files (source named per row).</p>
<nav><a href="#tasks">Tasks</a> | <a href="#leaderboards">Leaderboards</a> | <a href="#audit">Seed vs strict</a></nav>

<h2 id="tasks">Tasks</h2>
<table><tr><th>benchmark</th><th>task</th><th>name</th><th>data</th><th>folds</th><th>metric</th><th>status</th><th>best published</th></tr>
{% for t in tasks %}<tr class="{{ 'unavailable' if t.status != 'available' else '' }}"><td>{{ t.benchmark }}</td><td>{{ t.task }}</td>
<td>{{ t.name }}</td><td>{{ t.data }}</td><td>{{ t.folds }}</td><td>{{ t.metric }}</td><td>{{ t.status }}</td>
<td>{% if t.best_published %}{{ t.best_published.model }}: {{ '%.4f'|format(t.best_published.value) }}{% else %}none{% endif %}</td></tr>
{% endfor %}</table>

<h2 id="leaderboards">Leaderboards</h2>
{% for b in boards %}
<h3 id="lb-{{ b.benchmark }}-{{ b.task }}">{{ b.benchmark }} {{ b.task }}</h3>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in b.rows %}<tr class="kind-{{ r.kind }}">{% for c in columns %}<td>{{ fmt(r[c]) }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% if b.chart %}<img alt="leaderboard {{ b.benchmark }} {{ b.task }}" src="data:image/png;base64,{{ b.chart }}">{% endif %}
{% if b.roc %}<img alt="ROC {{ b.benchmark }} {{ b.task }}" src="data:image/png;base64,{{ b.roc }}">{% endif %}
{% else %}<p>No results records yet: run <code>genebench materialize</code> or <code>genebench evaluate --submission</code>.</p>
{% endfor %}

<h2 id="audit">Seed vs strict</h2>
{% if audit %}<table><tr><th>benchmark</th><th>task</th><th>model</th><th>features</th><th>kind</th><th>metric</th><th>seed</th><th>strict</th><th>move</th></tr>
{% for a in audit %}<tr><td>{{ a.benchmark }}</td><td>{{ a.task }}</td><td>{{ a.model }}</td><td>{{ a.feature_set or '' }}</td><td>{{ a.kind }}</td>
<td>{{ a.metric }}</td><td>{{ fmt(a.seed) }}</td><td>{{ fmt(a.strict) }}</td><td>{{ '%+.4f'|format(a.move) }}</td></tr>{% endfor %}</table>
{% else %}<p>No model has records under both protocols yet (materialize with <code>--protocol seed</code> and <code>--protocol strict</code>).</p>{% endif %}
{% if audit_files %}<p>Leakage audits on disk: {% for f in audit_files %}<code>{{ f }}</code> {% endfor %}</p>{% endif %}
</body></html>
"""


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "GO" if v else "NO-GO"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def render_report(records: list[dict], tasks: list[dict], *, data_dir: str | Path, published_dir: Path | None = None,
                  soma_dir: Path | None = None, audit_files: list[str] = ()) -> str:
    import jinja2

    from genebench_assets.science.evaluation.plots import roc_points_png

    by_task: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        by_task[(r["benchmark"], r["task"])].append(r)
    boards = []
    for (benchmark, task), recs in sorted(by_task.items()):
        rows = leaderboard(benchmark, task, recs, published_dir=published_dir, soma_dir=soma_dir)
        curves = {}
        for r in sorted(recs, key=lambda r: -r["summary"]["mean"]):
            if r.get("roc") and len(curves) < 8:
                label = f"{r['model']}" + (f" [{r['feature_set']}]" if r.get("feature_set") else "") + f" {r['protocol']}"
                curves[label] = (r["roc"]["fpr"], r["roc"]["tpr"])
        boards.append({"benchmark": benchmark, "task": task, "rows": rows,
                       "chart": _b64(leaderboard_chart_png(rows, f"{benchmark} {task}")),
                       "roc": _b64(roc_points_png(curves, title=f"{task} pooled ROC")) if curves else None})
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), n_records=len(records),
        data_dir=str(data_dir), tasks=tasks, boards=boards, columns=COLUMNS, fmt=_fmt,
        audit=seed_vs_strict(records), audit_files=list(audit_files))


def write_report(out_dir: str | Path, html: str) -> Path:
    from genebench_assets.science.storage.atomic_files import write_text

    return write_text(html, Path(out_dir) / "index.html")
