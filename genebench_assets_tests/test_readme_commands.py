"""Every command the README (and the docs/ topic pages it links) prints works as printed, at the cheap level: each `genebench ...` command
(in code blocks and in `backticks`) parses with the real argument parser, with its optional `[...]`
parts both left out and included, and each distinct subcommand's --help runs as a real process.
(`genebench llm replay` itself is run by defs/llm/test_replay.py; materialize by the demo tests.)"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from genebench_assets.cli import build_parser
from genebench_assets_tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
# The topic pages the README links to print commands too; they are held to the same rule.
TOPIC_PAGES = ("ui", "sources", "inputs", "outputs", "refresh", "categories", "spaceomicsbench", "llm", "deployment")
DOCS = "\n".join((REPO_ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8") for page in TOPIC_PAGES)


def readme_genebench_commands() -> list[str]:
    found = []
    for line in (README + "\n" + DOCS).splitlines():
        for m in re.finditer(r"(?:\.venv/bin/)?\bgenebench ((?:[a-z][\w-]*)(?:[^`#&]*))", line):
            cmd = m.group(1).strip().rstrip(".,;:)")
            if line.lstrip().startswith(("#", "-")) and "`" not in line:
                continue
            found.append(cmd)
    return sorted(set(found))


PLACEHOLDER_VALUES = {"N": "1"}  # other upper-case placeholders (DIR, OUT) become a path


def variants(cmd: str) -> list[list[str]]:
    """The command without its [optional] parts and with all of them (brackets removed); a value
    written `a|b` gives one variant per alternative; placeholders get a value of their type."""
    out = []
    for text in (re.sub(r"\s*\[[^\]]*\]", "", cmd), re.sub(r"\[([^\]]*)\]", r"\1", cmd)):
        argv = shlex.split(text)
        alternatives = [a.split("|") for a in argv]
        for i in range(max(len(a) for a in alternatives)):
            out.append([PLACEHOLDER_VALUES.get(t := alt[min(i, len(alt) - 1)], "out" if t.isalpha() and t.isupper() else t)
                        for alt in alternatives])
    return out


COMMANDS = readme_genebench_commands()


def test_readme_has_commands():
    assert {"materialize", "reproduce", "evaluate", "lineage", "llm", "demo-publish"} <= {c.split()[0] for c in COMMANDS}, COMMANDS


@pytest.mark.parametrize("cmd", COMMANDS)
def test_readme_command_parses_as_printed(cmd):
    for argv in variants(cmd):
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse prints the reason on stderr
            pytest.fail(f"README command does not parse: genebench {' '.join(argv)} (exit {exc.code})")
        assert callable(args.func)


@pytest.mark.parametrize("sub", sorted({tuple(c.split()[:2]) if c.split()[0] in ("reproduce", "llm") else (c.split()[0],)
                                        for c in COMMANDS}))
def test_readme_subcommand_help_runs(sub):
    proc = subprocess.run([sys.executable, "-m", "genebench_assets.cli", *sub, "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "usage: genebench" in proc.stdout, proc.stderr[-2000:]


@pytest.mark.slow
def test_readme_dagster_validate_command_runs(tmp_path):
    """`dagster definitions validate -w workspace.yaml`, as the README prints it."""
    assert "`dagster definitions validate -w workspace.yaml`" in README
    dagster = REPO_ROOT / ".venv" / "bin" / "dagster"
    if not dagster.exists():
        pytest.skip(f"{dagster} not installed")
    (tmp_path / "dagster.yaml").touch()
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={"PATH": str(dagster.parent), "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
