"""genebench is a dg project ([tool.dg] in pyproject.toml): `dg list defs`, `dg launch --assets` and
`dg dev` see the code location, as real processes (CI also runs `dg check defs`, scripts/test.sh)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from genebench_assets_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
DG = REPO_ROOT / ".venv" / "bin" / "dg"


@pytest.fixture
def env(tmp_path):
    if not DG.exists():
        pytest.skip(f"{DG} not installed (scripts/test.sh installs dagster-dg-cli)")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, "DAGSTER_HOME": str(home), "GENEBENCH_DATA_DIR": str(tmp_path / "data")}


def _dg(env, *args, timeout=600):
    return subprocess.run([str(DG), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_dg_lists_the_code_locations_assets_and_checks(env):
    out = _dg(env, "list", "defs", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    listed = json.loads(out.stdout)
    keys = {a["asset_key"] for a in listed["assets"]}
    assert {"osdr_catalog", "raw_counts", "lomo_folds", "model_predictions", "evaluation_summary"} <= keys
    checks = {c["key"] for c in listed["asset_checks"]}
    assert any("leakage_fitted_steps_saw_training_only" in c for c in checks), sorted(checks)[:5]


def test_dg_launch_materializes_an_asset_into_the_instance(env):
    out = _dg(env, "launch", "--assets", "osdr_catalog")
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
    import dagster as dg

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.fetch_materializations(dg.AssetKey("osdr_catalog"), limit=1).records


def test_dg_dev_serves_the_code_location(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(DG), "dev", "--port", str(port), "--host", "127.0.0.1"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    query = json.dumps({"query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { name "
                                 "location { name } } } } }"}).encode()
    try:
        deadline, nodes = time.monotonic() + 600, None  # a slow start under load is not a failure
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query,
                                             headers={"Content-Type": "application/json"})
                nodes = json.load(urllib.request.urlopen(req, timeout=10))["data"]["repositoriesOrError"].get("nodes")
                if nodes:
                    break
            except OSError:
                pass
            time.sleep(2)
        assert proc.poll() is None, f"dg dev exited with {proc.returncode}"
        assert nodes and {n["location"]["name"] for n in nodes} == {"genebench_assets"}, nodes
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
