"""Where plug-ins run and where they are skipped (issue 20): the table `genebench list models` prints agrees with
the SpaceOmicsBench task types, and every skipped row gives a reason."""

import json
import re

from genebench_assets.science.models.plugin_scope import PLUGIN_SCOPE, skip_note, soma_skip_reason
from genebench_assets_tests.conftest import shared_path


def _listed(runs: bool) -> set[str]:
    row = next(path for path, r, _ in PLUGIN_SCOPE if path.startswith("SpaceOmicsBench") and r is runs)
    out = set()
    for a, b in re.findall(r"([A-Z]\d)(?:-([A-Z]\d))?", row):
        out |= {f"{a[0]}{i}" for i in range(int(a[1]), int(b[1]) + 1)} if b else {a}
    return out


def test_the_soma_rows_name_exactly_the_binary_and_the_other_tasks():
    types = {p.stem: json.loads(p.read_text())["task_type"]
             for p in shared_path("spaceomicsbench", "tasks").glob("[A-Z][0-9].json")}
    assert _listed(True) == {t for t, ty in types.items() if soma_skip_reason(ty) is None}
    assert _listed(False) == {t for t, ty in types.items() if soma_skip_reason(ty) is not None}
    assert soma_skip_reason("multilabel_classification").startswith("skipped: multilabel_classification")


def test_every_skipped_path_says_why():
    assert all(why for _, _, why in PLUGIN_SCOPE)
    assert skip_note("D3-D6").startswith("skipped: not a Flight vs Ground task")
    assert skip_note("C1-C4 method C").startswith("skipped: published-only comparison")


def test_list_models_shows_where_plugins_run_and_are_skipped():
    from genebench_assets.science.results.commands import list_models

    rows = [r for r in list_models("spaceomicsbench", []) if r["model"] == "<plug-in>"]
    assert [r["description"].split(":")[0] for r in rows] == ["runs", "skipped"]
    assert all(r["kind"] == "plug-in" and r["benchmark"] == "spaceomicsbench" for r in rows)
    genelab = [r["description"] for r in list_models("genelab", []) if r["model"] == "<plug-in>"]
    assert any(d.startswith("runs: B1-B6") for d in genelab) and any(d.startswith("skipped: D3-D6") for d in genelab)
