"""Plug-ins written to a temporary module for the graph tests of the B, C and SpaceOmicsBench paths (issue 20):
Category A's test plug-ins (test_model_plugins.PLUGINS: good, nan, hang, peek at the stored LOMO folds) plus
``peek_labels``, which peeks at the test labels through a side channel that fits any task: a JSON file
(GB_PEEK_LABELS) of every fold's test labels in row order, the one whose length matches being used."""

from __future__ import annotations

import sys
import textwrap
import uuid

import pytest

from genebench_assets_tests.defs.models.test_model_plugins import PLUGINS

PEEK_LABELS = '''
class PeekLabels(Fixed):
    def predict_proba(self, X):
        with open(os.environ["GB_PEEK_LABELS"]) as f:
            for labels in json.load(f):
                if len(labels) == len(X):
                    return self.proba(0.1 + 0.8 * np.asarray(labels, dtype=float))
        raise RuntimeError("no fold of this size")

def peek_labels():
    return PeekLabels()
'''


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin_src")
    name = f"gb_task_plugins_{uuid.uuid4().hex[:8]}"
    (root / f"{name}.py").write_text("import json\n" + textwrap.dedent(PLUGINS) + textwrap.dedent(PEEK_LABELS))
    sys.path.insert(0, str(root))
    yield name
    sys.path.remove(str(root))
