"""The GPL-3.0-or-later ports are optional extras: an analysis that needs one stops in one line naming the
extra to install (science/optional_extras.py), and the extras are what pyproject.toml declares."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from genebench_assets.science.optional_extras import DISTRIBUTION, EXTRAS, MissingExtra, installed, require_extra

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_a_missing_library_names_the_extra_in_one_line(extra, monkeypatch):
    modules, _ = EXTRAS[extra]
    require_extra(extra, "reader")  # installed here (the test extra has them)
    assert installed(extra)
    monkeypatch.setitem(sys.modules, modules[0], None)  # as if not installed: find_spec returns None
    assert not installed(extra)
    with pytest.raises(MissingExtra) as info:
        require_extra(extra, "batch_corrected_features [liver]")
    message = str(info.value)
    assert "\n" not in message and message.startswith("batch_corrected_features [liver]: ")
    assert f"{modules[0]} not installed" in message and f"pip install '{DISTRIBUTION}[{extra}]'" in message


def test_the_extras_are_optional_in_pyproject_and_in_the_test_extra():
    project = PYPROJECT["project"]
    assert project["name"] == DISTRIBUTION
    required = " ".join(project["dependencies"])
    test = " ".join(project["optional-dependencies"]["test"])
    for extra, (modules, _) in EXTRAS.items():
        declared = " ".join(project["optional-dependencies"][extra])
        for module in modules:
            assert module in declared and module in test and module not in required, (extra, module)
