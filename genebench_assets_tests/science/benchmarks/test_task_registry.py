"""The task registry behind `genebench list tasks` (issue 20)."""

from genebench_assets.science.benchmarks.task_registry import ANALYSES, TASK_FIELDS, all_tasks, task_osdr_accessions
from genebench_assets.science.osdr.study_catalog import load_catalog
from genebench_assets_tests.conftest import published_path, shared_path


def test_every_task_listed_with_status_and_best_published():
    published, soma = published_path(), shared_path("spaceomicsbench")
    tasks = {(t.benchmark, t.task): t for t in all_tasks(load_catalog(), published_dir=published, soma_dir=soma)}
    genelab = {k[1] for k in tasks if k[0] == "genelab"}
    expected = {f"A{i}" for i in range(1, 7)} | {f"B{i}" for i in range(1, 7)} | {f"C{i}" for i in range(1, 5)} \
        | {"D3", "D4", "D5", "D6", "J5", "NC1", "NC2"} | set(ANALYSES)
    assert genelab == expected
    soma_tasks = {k[1]: t for k, t in tasks.items() if k[0] == "spaceomicsbench"}
    assert len(soma_tasks) == 21
    for tid in ("B1", "F1", "F2", "F3"):
        assert soma_tasks[tid].status.startswith("unavailable: ") and ".csv" in soma_tasks[tid].status
    assert soma_tasks["F4"].status == "available"
    assert ("llm", "LLM-QA") in tasks
    a2 = tasks[("genelab", "A2")]
    assert (a2.data, a2.metric, a2.status) == ("gastrocnemius", "AUROC", "available")
    assert a2.best_published["model"] == "lr" and a2.best_published["value"] == 0.9074
    assert tasks[("genelab", "NC1")].best_published is None
    for name, a in ANALYSES.items():   # issue 21: `available` once its entry is switched on, `partial` for part
        expected = {True: "available", "partial": f"partial: {a['reason']}"}.get(a["implemented"], f"unavailable: {a['reason']}")
        assert tasks[("genelab", name)].status == expected
    for name in ("T1", "T2", "T3"):      # pathway fields from the release, gene fields need expression
        assert tasks[("genelab", name)].status.startswith("partial: ") and "release does not ship" in tasks[("genelab", name)].status
    for t in tasks.values():
        assert tuple(t.to_dict()) == TASK_FIELDS


def test_missing_published_files_mean_no_best_figure(tmp_path):
    tasks = all_tasks(load_catalog(), benchmark="genelab", published_dir=tmp_path, soma_dir=tmp_path)
    assert all(t.best_published is None for t in tasks)


def test_osdr_accessions_of_a4():
    acc = task_osdr_accessions(load_catalog(), "A4")
    assert {a["osd"] for a in acc} >= {"OSD-244", "OSD-289", "OSD-421"} and {a["tissue"] for a in acc} == {"thymus"}
    assert task_osdr_accessions(load_catalog(), "ZZ9") == []
