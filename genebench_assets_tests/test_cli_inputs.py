"""Every file and argument a user hands the `genebench` command (issue 25 causes 2-6, issue 19 item 7):
one line naming file / argument, field and value, exit 2, no traceback, no file outside the output
directory, within a hard timeout and a peak-memory bound (measured in a fresh parent process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from genebench_assets_tests.science.inputs.test_guarded_files import ALIAS_BOMB

_MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    t0 = time.perf_counter()
    p = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True, timeout=120)
    print(json.dumps({"rc": p.returncode, "out": p.stdout, "err": p.stderr, "s": time.perf_counter() - t0,
                      "kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
""")


def genebench_measured(*args: str, env_dir: Path, **env_extra: str) -> dict:
    env = {"DAGSTER_HOME": str(env_dir / "home"), "GENEBENCH_DATA_DIR": str(env_dir / "data"),
           "PATH": str(Path(sys.executable).parent), "HOME": str(env_dir), **env_extra}
    cmd = [sys.executable, "-m", "genebench_assets.cli", *args]
    proc = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(cmd)], env=env, cwd=env_dir,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def assert_one_line_exit_2(r: dict, *fragments: str, max_mb: int = 200) -> None:
    lines = r["err"].strip().splitlines()
    assert r["rc"] == 2 and len(lines) == 1 and "Traceback" not in r["err"], r["err"][-3000:]
    for f in fragments:
        assert f in lines[0], lines[0]
    assert r["kb"] < max_mb * 1024, f"peak {r['kb']} KB"


def _hostile(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"input_{kind.replace('/', '_')}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind.startswith("/dev/"):
        return Path(kind)
    elif kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 16)
    elif kind == "utf16":
        path.write_bytes('{"predictions": []}'.encode("utf-16"))
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "huge int":
        path.write_text('{"predictions": [{"split_idx": %s}]}' % ("7" * 5000))
    elif kind == "duplicate keys":
        path.write_text('{"predictions": [], "predictions": []}')
    elif kind == "alias bomb":
        path.write_text(ALIAS_BOMB)
    return path


HOSTILE = {"fifo": "is a FIFO", "/dev/zero": "is a character device", "/dev/urandom": "is a character device",
           "directory": "is a directory", "binary": "not UTF-8 text", "utf16": "is UTF-16 text",
           "deep": "nested too deep", "huge int": "an integer of 5000 digits", "duplicate keys": "duplicate key"}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_evaluate_spaceomicsbench_hostile_submission(tmp_path, kind):
    path = _hostile(kind, tmp_path)
    (tmp_path / "sob" / "tasks").mkdir(parents=True)
    r = genebench_measured("evaluate", "--benchmark", "spaceomicsbench", "--data", str(tmp_path / "sob"),
                           "--task", "A2", "--submission", str(path), env_dir=tmp_path)
    assert_one_line_exit_2(r, str(path), HOSTILE[kind])
    assert r["out"] == ""


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory", "utf16"])
def test_evaluate_genelab_special_submission(tmp_path, kind):
    path = _hostile(kind, tmp_path)
    r = genebench_measured("evaluate", "--task", "A5", "--submission", str(path), env_dir=tmp_path)
    assert_one_line_exit_2(r, str(path), HOSTILE[kind])
    assert r["s"] < 30


def test_evaluate_task_cannot_leave_tasks_folder(tmp_path):
    (tmp_path / "sob" / "tasks").mkdir(parents=True)
    (tmp_path / "x.json").write_text("{}")  # what `--task ../x` would have read
    sub = tmp_path / "sub.json"
    sub.write_text('{"predictions": []}')
    r = genebench_measured("evaluate", "--benchmark", "spaceomicsbench", "--data", str(tmp_path / "sob"),
                           "--task", "../x", "--submission", str(sub), env_dir=tmp_path)
    assert_one_line_exit_2(r, "--task", "'../x'")


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "--task", "A5", "--submission", "s.json", "--n-bootstrap", "-5"], "--n-bootstrap"),
    (["evaluate", "--task", "A5", "--submission", "s.json", "--n-permutations", "0"], "--n-permutations"),
    (["evaluate", "--task", "A5", "--submission", "s.json", "--max-bytes", "0"], "--max-bytes"),
    (["export-folds", "--out", "afile"], "exists and is not a directory"),
    (["export-folds", "--out", "afile/sub"], "which is a file, not a directory"),
    (["export-folds", "--out", "/dev/null"], "is under /dev"),
    (["export-folds", "--out", "/proc/1"], "is under /proc"),
    (["lineage", "--task", "../A2", "--model", "lr"], "task id '../A2'"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, args, fragment):
    (tmp_path / "afile").write_text("x")
    r = genebench_measured(*args, env_dir=tmp_path)
    assert_one_line_exit_2(r, fragment)
    assert r["s"] < 30 and not (tmp_path / "afile").is_dir()


@pytest.mark.parametrize("args, fragment", [
    (["--model", "no-such-model"], "--model 'no-such-model' is not a model; known: ['lr'"),
    (["--model", "lr", "--fold", "RR-99"], "--fold 'RR-99' is not a fold of A2 (gastrocnemius); known missions:"),
    (["--model", "lr", "--features", "nope"], "--features 'nope' is not a feature set; known: ['genes', 'pathways']"),
])
def test_lineage_refuses_unknown_names(tmp_path, args, fragment):
    r = genebench_measured("lineage", "--task", "A2", *args, env_dir=tmp_path)
    assert_one_line_exit_2(r, fragment, max_mb=400)


def test_dagster_home_that_is_a_file(tmp_path):
    (tmp_path / "home_file").write_text("x")
    r = genebench_measured("lineage", "--task", "A2", "--model", "lr", env_dir=tmp_path,
                           DAGSTER_HOME=str(tmp_path / "home_file"))
    assert_one_line_exit_2(r, "DAGSTER_HOME=", "exists and is not a directory", max_mb=400)


RUN_CONFIG_BOMB_NESTED = ("execution:\n  config:\n    dask:\n      cluster:\n        slurm:\n          kwargs:\n"
                          + textwrap.indent(ALIAS_BOMB, " " * 12))
RUN_CONFIG_BOMB_RESOURCE = ("execution:\n  config:\n    in_process: {}\nresources:\n  settings:\n    config:\n"
                            "      data_dir:\n" + textwrap.indent(ALIAS_BOMB, " " * 8))


@pytest.mark.parametrize("kind, fragment", [
    ("fifo", "is a FIFO"), ("/dev/zero", "is a character device"), ("binary", "not UTF-8 text"),
    ("alias bomb", "alias bomb"), ("nested bomb", "alias bomb"), ("resource bomb", "alias bomb"),
    ("duplicate", "duplicate key 'execution'"),
])
def test_run_config_hostile(tmp_path, kind, fragment):
    if kind in ("nested bomb", "resource bomb", "duplicate"):
        path = tmp_path / "rc.yaml"
        path.write_text({"nested bomb": RUN_CONFIG_BOMB_NESTED, "resource bomb": RUN_CONFIG_BOMB_RESOURCE,
                         "duplicate": "execution: {}\nexecution: {}\n"}[kind])
    else:
        path = _hostile(kind, tmp_path)
    r = genebench_measured("materialize", "--run-config", str(path), env_dir=tmp_path)
    assert_one_line_exit_2(r, "--run-config", str(path), fragment)
    assert r["s"] < 60 and not (tmp_path / "data").exists()  # nothing ran


CATALOG = ("tissues: [liver]\nmissions: {RR-1: {}}\ntask_ids: {liver: A1}\nstudies:\n"
           "  - {osd: OSD-48, tissue: liver, mission: RR-1, expected: {flight: 1, ground: 1}}\n")


@pytest.mark.parametrize("kind, fragment", [
    ("fifo", "is a FIFO"), ("/dev/zero", "is a character device"),
    ("bomb under tissues", "alias bomb"),
    ("traversal task id", "task_ids.liver: task id '../../../../../../tmp/PWNED_task'"),
    ("not a mapping", "(top level): expected a mapping"),
])
@pytest.mark.parametrize("command", [["materialize"], ["export-folds", "--out", "OUT"]])
def test_bad_catalog_one_line(tmp_path, kind, fragment, command):
    if kind in ("fifo", "/dev/zero"):
        path = _hostile(kind, tmp_path)
    else:
        path = tmp_path / "catalog.yaml"
        path.write_text({"bomb under tissues": ALIAS_BOMB + CATALOG.replace("tissues: [liver]", "tissues: *i"),
                         "traversal task id": CATALOG.replace("liver: A1", 'liver: "../../../../../../tmp/PWNED_task"'),
                         "not a mapping": "- liver\n"}[kind])
    out = tmp_path / "deep" / "er" / "OUT"
    r = genebench_measured(*[str(out) if a == "OUT" else a for a in command], env_dir=tmp_path,
                           GENEBENCH_CATALOG=str(path))
    assert_one_line_exit_2(r, "catalog", fragment)
    written = [p for p in tmp_path.rglob("*PWNED*")] + [p for p in Path("/tmp").glob("PWNED_task*")]
    assert written == [] and not out.exists()


def test_export_paths_stay_inside_out(tmp_path):
    """Defence in depth: a derived path that resolves outside the output root is refused."""
    from genebench_assets.science.osdr.identifiers import IdentifierError, path_inside

    with pytest.raises(IdentifierError):
        path_inside(tmp_path / "out", "../../../../../../tmp/PWNED_task_gastrocnemius_lomo")
    assert not list(tmp_path.rglob("*PWNED*"))
