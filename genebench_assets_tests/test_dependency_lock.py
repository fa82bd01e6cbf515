"""requirements-lock.txt (what CI tested, installed by both README commands and .ci/run) agrees with
pyproject.toml's ranges: a dependency added or re-pinned in pyproject without re-running scripts/lock.sh
fails here, before a fresh machine resolves it to whatever is newest."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from genebench_assets_tests.conftest import REPO_ROOT


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, ver = line.partition("==")
            assert ver, f"requirements-lock.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = ver
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return [Requirement(r) for r in reqs]


def test_every_dependency_is_locked_within_its_range():
    lock = _lock()
    problems = []
    for req in _requirements():
        version = lock.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name}: not in the lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: locked {version} is outside {req.specifier}")
    assert not problems, "run scripts/lock.sh: " + "; ".join(problems)


def test_dagster_packages_are_locked_together():
    lock = _lock()
    dagster = {n: v for n, v in lock.items() if n.startswith("dagster")}
    core = {v for n, v in dagster.items() if v.startswith("1.")}
    libs = {v for n, v in dagster.items() if v.startswith("0.")}
    assert core == {"1.13.27"} and libs <= {"0.29.27"}, dagster


def test_installed_versions_are_the_locked_ones():
    # The environment running the tests is the one the lock describes (scripts/test.sh installs with -c).
    from importlib.metadata import PackageNotFoundError, version

    lock = _lock()
    drift = []
    for name in ("dagster", "pandas", "numpy", "scipy", "scikit-learn", "anthropic", "xgboost-cpu", "lightgbm"):
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != lock.get(canonicalize_name(name)):
            drift.append(f"{name} {have} (lock {lock.get(canonicalize_name(name))})")
    assert not drift, "installed packages differ from requirements-lock.txt: " + ", ".join(drift)
