"""GENEBENCH_EXECUTOR_CONFIG (defs/runtime/execution.py): the executor of runs that carry no run config of
their own (sensor, automation, schedule runs) is chosen by the deployment's configuration; a bad file
stops the code location from loading with one line naming file, field and value. The daemon path with
it set is exercised for real in test_postgres_instance.py (the daemon's automation run in_process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from genebench_assets.defs.runtime.execution import RunConfigError, default_executor_config
from genebench_assets_tests.defs.test_k8s_executor import RUN_CONFIG as K8S_RUN_CONFIG


def test_unset_is_dagster_default_multiprocess(monkeypatch):
    monkeypatch.delenv("GENEBENCH_EXECUTOR_CONFIG", raising=False)
    assert default_executor_config() == {"multiprocess": {}}


def test_a_deploy_file_becomes_the_default(monkeypatch):
    monkeypatch.setenv("GENEBENCH_EXECUTOR_CONFIG", str(K8S_RUN_CONFIG))
    config = default_executor_config()
    assert config["k8s"]["job_image"] == "registry.example.org/genebench:0.1.0"


@pytest.mark.parametrize("content, names", [
    ("execution: {config: {dask: {cluster: {local: {}}}}}\n", "execution.config.dask.cluster: unknown field 'local'"),
    ("execution: {config: {k8s: {job_namspace: genebench}}}\n", "execution.config.k8s: unknown field 'job_namspace'"),
    ("execution: {config: {in_process: {}}}\nresources: {settings: {config: {data_dir: /x}}}\n",
     "only `execution:` is read from this file, found resources"),
    ("resources: {}\n", "execution.config: missing"),
])
def test_bad_file_is_one_line_naming_file_and_field(content, names, tmp_path, monkeypatch):
    bad = tmp_path / "executor.yaml"
    bad.write_text(content)
    monkeypatch.setenv("GENEBENCH_EXECUTOR_CONFIG", str(bad))
    with pytest.raises(RunConfigError) as err:
        default_executor_config()
    assert str(bad) in str(err.value) and names in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_bad_file_stops_the_code_location_from_loading(tmp_path):
    bad = tmp_path / "executor.yaml"
    bad.write_text("execution: {config: {dask: {}}}\n")
    done = subprocess.run([sys.executable, "-c", "import genebench_assets.definitions"], capture_output=True, text=True,
                          env={**os.environ, "GENEBENCH_EXECUTOR_CONFIG": str(bad)}, timeout=300)
    assert done.returncode != 0
    assert f"GENEBENCH_EXECUTOR_CONFIG={bad}: execution.config.dask: missing required field 'cluster'" in done.stderr
