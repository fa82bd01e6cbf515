"""Model plug-ins (issue 20): naming, loading, code version, output checks, time limit, the worker's one-line errors."""

from __future__ import annotations

import sys
import textwrap
import uuid

import numpy as np
import pandas as pd
import pytest

from genebench_assets.science.models.fit_pool import guarded_fit
from genebench_assets.science.models.plugins import (
    PLUGIN_PREFIX, PluginError, configured_specs, fit_plugin, output_problem, parse_spec, plugin_code_version)

PLUGINS = '''
import time
import numpy as np
from sklearn.linear_model import LogisticRegression

class Const:
    def __init__(self, value, n_extra=0):
        self.value, self.n_extra = value, n_extra
    def fit(self, X, y):
        return self
    def predict_proba(self, X):
        p = np.full(len(X) + self.n_extra, self.value, dtype=float)
        return np.column_stack([1 - p, p])

def good(seed=42):
    return LogisticRegression(random_state=seed, max_iter=500)
def nan():
    return Const(float("nan"))
def too_long():
    return Const(0.5, n_extra=1)
def above_one():
    return Const(1.5)
class Boom:
    def fit(self, X, y):
        raise RuntimeError("exploded\\non two lines")
def boom():
    return Boom()
class Hang(Const):
    def fit(self, X, y):
        time.sleep(60)
def hang():
    return Hang(0.5)
LABELS = []  # a side channel: test labels in row order, as a peeking plug-in might find them
class Peek(Const):
    def predict_proba(self, X):
        p = np.array(LABELS[:len(X)], dtype=float)
        return np.column_stack([1 - p, p])
def peek():
    return Peek(0.5)
SEEN = []  # what fit / predict_proba received
class Seen(Const):
    def fit(self, X, y):
        SEEN.append(X)
        return self
    def predict_proba(self, X):
        SEEN.append(X)
        return super().predict_proba(X)
def seen():
    return Seen(0.5)
def seen_frame():
    return Seen(0.5)
seen_frame.genebench_input = "frame"
def good_frame(seed=42):
    return good(seed)
good_frame.genebench_input = "frame"
def bad_input():
    return Seen(0.5)
bad_input.genebench_input = "tensor"
'''


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugins")
    name = f"gb_plugins_{uuid.uuid4().hex[:8]}"
    (root / f"{name}.py").write_text(textwrap.dedent(PLUGINS))
    sys.path.insert(0, str(root))
    yield name, root / f"{name}.py"
    sys.path.remove(str(root))


def data(n_train=30, n_test=10, n_features=5):
    rng = np.random.default_rng(0)
    X_train = pd.DataFrame(rng.normal(size=(n_train, n_features)), columns=[f"g{i}" for i in range(n_features)])
    y_train = np.array([0, 1] * (n_train // 2))
    X_test = pd.DataFrame(rng.normal(size=(n_test, n_features)), columns=X_train.columns,
                          index=[f"sample{i}" for i in range(n_test)])
    return X_train, y_train, X_test


def test_parse_spec_accepts_name_module_factory_and_refuses_the_rest():
    s = parse_spec("my_lr=pkg.mod:make")
    assert (s.name, s.module, s.factory, s.spec) == ("my_lr", "pkg.mod", "make", "my_lr=pkg.mod:make")
    for bad in ("my_lr", "my_lr=pkg.mod", "My-LR=pkg:make", "lr=pkg:make", "positive_control_x=pkg:make", "=pkg:f"):
        with pytest.raises(PluginError) as e:
            parse_spec(bad)
        assert "\n" not in str(e.value)
    with pytest.raises(PluginError, match="named twice"):
        configured_specs(["a=x:f", "a=y:f"], entry_points=False)
    assert [p.name for p in configured_specs(["a=x:f", "a=x:f", "b=x:g"], entry_points=False)] == ["a", "b"]


def test_code_version_is_the_module_source_and_changes_with_it(module, tmp_path):
    name, path = module
    v1 = plugin_code_version(f"p={name}:good")
    assert len(v1) == 16 and v1 == plugin_code_version(f"q={name}:nan")  # the module's source, not the factory name
    other = tmp_path / "gb_other_plugin.py"
    other.write_text("def f():\n    return 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        va = plugin_code_version("p=gb_other_plugin:f")
        other.write_text("def f():\n    return 2\n")
        assert plugin_code_version("p=gb_other_plugin:f") != va
    finally:
        sys.path.remove(str(tmp_path))
    with pytest.raises(PluginError, match="cannot import"):
        plugin_code_version("p=gb_no_such_module_xyz:f")


def test_a_good_plugin_scores_every_test_row_and_sees_no_sample_id(module):
    name, _ = module
    X_train, y_train, X_test = data()
    scores = fit_plugin(f"p={name}:good", X_train, y_train, X_test, 42)
    assert scores.shape == (10,) and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.parametrize("factory, problem", [
    ("nan", "NaN or inf"), ("too_long", "wrong length"), ("above_one", "outside [0, 1]"),
    ("boom", "raised RuntimeError: exploded on two lines"), ("missing", "has no 'missing'")])
def test_bad_plugins_end_in_one_line(module, factory, problem):
    name, _ = module
    out = guarded_fit(f"{PLUGIN_PREFIX}p={name}:{factory}", *data(), 42, None)
    assert out["scores"] is None and problem in out["error"] and "\n" not in out["error"], out["error"]


def test_an_import_error_is_one_line():
    out = guarded_fit(f"{PLUGIN_PREFIX}p=gb_no_such_module_xyz:f", *data(), 42, None)
    assert out["error"].startswith("cannot import 'gb_no_such_module_xyz'") and "\n" not in out["error"]


def test_a_hanging_plugin_is_stopped_at_the_time_limit(module):
    import time

    name, _ = module
    t0 = time.perf_counter()
    out = guarded_fit(f"{PLUGIN_PREFIX}p={name}:hang", *data(), 42, 0.5)
    assert out["error"] == "slower than the time limit" and time.perf_counter() - t0 < 5


def test_guarded_fit_reports_cpu_seconds_and_peak_memory_of_builtins_too():
    out = guarded_fit("pca_lr", *data(), 42, None)
    assert out["error"] is None and out["cpu_seconds"] >= 0 and out["peak_rss_mb"] > 10 and len(out["scores"]) == 10


def test_output_problem():
    assert output_problem([0.1, 0.9], 2) is None
    assert "wrong length" in output_problem([0.1], 2)
    assert "NaN" in output_problem([np.inf, 0.2], 2)


def test_the_label_blind_probe_catches_a_plugin_reading_labels_by_row_and_passes_an_honest_one(module):
    import importlib

    name, _ = module
    importlib.import_module(name).LABELS[:] = [0, 1] * 5
    X = data()
    assert "reads test labels or row order" in guarded_fit(f"{PLUGIN_PREFIX}p={name}:peek", *X, 42, None, 42)["error"]
    assert guarded_fit(f"{PLUGIN_PREFIX}p={name}:peek", *X, 42, None, None)["error"] is None  # unprobed: unnoticed
    out = guarded_fit(f"{PLUGIN_PREFIX}p={name}:good", *X, 42, None, 42)
    assert out["error"] is None and out["label_blind_probe"] is True


def test_entry_points_of_group_genebench_models_are_plugins(monkeypatch):
    import importlib.metadata

    from genebench_assets.science.models import plugins

    eps = importlib.metadata.EntryPoints([importlib.metadata.EntryPoint("ep_lr", "pkg.models:make", plugins.ENTRY_POINT_GROUP)])
    monkeypatch.setattr(plugins.importlib.metadata, "entry_points",
                        lambda group=None: eps if group == plugins.ENTRY_POINT_GROUP else importlib.metadata.EntryPoints([]))
    specs = configured_specs(plugins.split_specs("a=x:f, b=y:g"))
    assert [(p.name, p.source) for p in specs] == [("a", "spec"), ("b", "spec"), ("ep_lr", "entry point")]
    assert [p.name for p in configured_specs([], entry_points=False)] == []


def test_a_plugin_gets_float_arrays_or_frames_sharing_one_column_index_when_it_asks(module):
    """Input (issue 20, cost): float64 arrays by default, what the built-ins fit on; DataFrames for a factory
    with genebench_input = "frame", the test frame indexed by row position and sharing the training frame's
    column Index object (same scores); another value is a one-line error."""
    import importlib

    name, _ = module
    seen = importlib.import_module(name).SEEN
    X_train, y_train, X_test = data()
    seen.clear()
    fit_plugin(f"p={name}:seen_frame", X_train, y_train, X_test, 42)
    fitted, predicted = seen
    assert isinstance(fitted, pd.DataFrame) and list(fitted.columns) == list(X_train.columns)
    assert isinstance(predicted, pd.DataFrame) and predicted.columns is fitted.columns
    assert list(predicted.index) == list(range(10))  # row positions, no sample id
    np.testing.assert_array_equal(predicted.to_numpy(), X_test.to_numpy())
    seen.clear()
    fit_plugin(f"p={name}:seen", X_train, y_train, X_test, 42)
    assert all(isinstance(x, np.ndarray) and x.dtype == np.float64 for x in seen)
    np.testing.assert_array_equal(seen[1], X_test.to_numpy())
    np.testing.assert_array_equal(fit_plugin(f"p={name}:good_frame", X_train, y_train, X_test, 42),
                                  fit_plugin(f"p={name}:good", X_train, y_train, X_test, 42))
    out = guarded_fit(f"{PLUGIN_PREFIX}p={name}:bad_input", X_train, y_train, X_test, 42, None)
    assert out["error"].startswith("genebench_input = 'tensor': expected one of array, frame") and "\n" not in out["error"]


def test_the_probe_is_counted_apart_from_the_fit(module):
    """guarded_fit: cpu_seconds is the fit and prediction (what a built-in does), probe_cpu_seconds the
    label-blindness probe's one extra predict_proba, 0 on the fits that are not probed."""
    name, _ = module
    X = data()
    probed = guarded_fit(f"{PLUGIN_PREFIX}p={name}:good", *X, 42, None, 42)
    plain = guarded_fit(f"{PLUGIN_PREFIX}p={name}:good", *X, 42, None, None)
    assert probed["error"] is None and probed["probe_cpu_seconds"] > 0 and probed["cpu_seconds"] >= 0
    assert plain["probe_cpu_seconds"] == 0.0 and guarded_fit("lr", *X, 42, None)["probe_cpu_seconds"] == 0.0
    np.testing.assert_array_equal(probed["scores"], plain["scores"])
