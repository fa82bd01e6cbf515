"""The guarded reader (issue 25): every hostile file is refused in one line naming file and field,
within time and memory bounds measured in a fresh subprocess, and nothing is left half-read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from genebench_assets.science.inputs import guarded_files as G
from genebench_assets.science.osdr.catalog_additions import load_additions
from genebench_assets.science.osdr.study_catalog import CatalogError, load_catalog

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f'{c}: &{c} [{",".join(["*" + p] * 9)}]\n' for p, c in zip("abcdefgh", "bcdefghi"))


def _refusal(fn, *args, **kwargs) -> str:
    with pytest.raises(G.InputFileError) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{args[0]}: ")
    return message


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


def test_special_files_refused_before_opening(tmp_path, fifo):
    assert "is a FIFO (named pipe), not a regular file" in _refusal(G.read_bytes, fifo, max_bytes=100)
    assert "is a character device" in _refusal(G.read_bytes, Path("/dev/zero"), max_bytes=100)
    assert "is a directory" in _refusal(G.read_bytes, tmp_path, max_bytes=100)
    assert "file not found" in _refusal(G.read_bytes, tmp_path / "absent", max_bytes=100)
    (tmp_path / "f").write_text("x")
    assert "a parent of this path is a file" in _refusal(G.read_bytes, tmp_path / "f" / "x", max_bytes=100)
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    assert "is a character device" in _refusal(G.load_json, link, max_bytes=100)


def test_size_limit_and_encodings(tmp_path):
    big = tmp_path / "big.json"
    big.write_text("[" + "1," * 100 + "1]")
    assert f"is {big.stat().st_size} bytes, over the limit of 50 bytes (say so)" in _refusal(
        G.read_text, big, max_bytes=50, hint="say so")
    utf16 = tmp_path / "u16.json"
    utf16.write_bytes('{"a": 1}'.encode("utf-16"))
    assert "is UTF-16 text" in _refusal(G.load_json, utf16, max_bytes=100)
    utf16.write_bytes('{"a": 1}'.encode("utf-16-le"))  # no BOM
    assert "looks like UTF-16 text" in _refusal(G.load_json, utf16, max_bytes=100)
    binary = tmp_path / "bin"
    binary.write_bytes(b"abc\x00def")
    assert "binary data (NUL byte at offset 3)" in _refusal(G.read_text, binary, max_bytes=100)
    binary.write_bytes(b"ab\xffcd")
    assert "not UTF-8 text (byte 0xff at offset 2)" in _refusal(G.read_text, binary, max_bytes=100)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')
    assert G.load_json(bom, max_bytes=100) == {"a": 1}


@pytest.mark.parametrize("text, message", [
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ('{"a": %s}' % ("9" * 5000), "an integer of 5000 digits"),
    ('{"a": 1e999}', "overflows to infinity"),
    ('{"a": NaN}', "NaN is not a finite number"),
    ("[" * 100_000 + "]" * 100_000, "nested too deep to parse"),
    ("[" * 70 + "]" * 70, "nested deeper than 64 levels"),
    ('{"a": ', "not valid JSON"),
])
def test_json_refusals(tmp_path, text, message):
    path = tmp_path / "f.json"
    path.write_text(text)
    assert message in _refusal(G.load_json, path, max_bytes=10 * G.MB)


def test_json_keep_mode_lists_instead_of_refusing():
    obj = G.parse_json("[%s, 1e999, NaN, 0.5]" % ("4" * 4000), "s.json", numbers="keep")
    assert isinstance(obj[0], G.OversizedNumber) and repr(obj[0]) == "<number of 4000 characters>"
    assert obj[1] == float("inf") and obj[2] != obj[2] and obj[3] == 0.5


@pytest.mark.parametrize("text, message", [
    (ALIAS_BOMB, "alias bomb"),
    ("execution:\n  config:\n    dask:\n      cluster:\n        slurm:\n" + textwrap.indent(ALIAS_BOMB, " " * 10),
     "alias bomb"),
    ("x: &x [1]\n" + "".join(f"k{i}: *x\n" for i in range(101)), "more than 100 alias references"),
    ("a: &a [*a]\n", "recursive alias"),
    ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a'"),
    ("a: " + "[" * 70 + "]" * 70, "nested deeper than 64 levels"),
    ("a: " + "[" * 100_000, "not valid YAML"),
    ("a: " + "7" * 5000, "an integer of 5000 digits"),
    ("a: [\n", "not valid YAML"),
])
def test_yaml_refusals(tmp_path, text, message):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    assert message in _refusal(G.load_yaml, path, max_bytes=10 * G.MB)


def test_yaml_few_aliases_still_read(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("db: &db {host: h, port: 5432}\nevents: *db\nruns: *db\n")
    assert G.load_yaml(path, max_bytes=1000)["runs"] == {"host": "h", "port": 5432}


def test_identifiers():
    assert G.validate_task_id("A2") == "A2"
    for bad in ("../../tmp/PWNED_task", "A/1", "", "a" * 40, 5):
        with pytest.raises(G.IdentifierError):
            G.validate_task_id(bad)
    with pytest.raises(G.IdentifierError):
        G.validate_model_name("../x")


# ------------------------------------------------------------------------------- catalogs use it
CATALOG = ("tissues: [liver]\nmissions: {RR-1: {}}\ntask_ids: {liver: A1}\nstudies:\n"
           "  - {osd: OSD-48, tissue: liver, mission: RR-1, expected: {flight: 1, ground: 1}}\n")


@pytest.mark.parametrize("text, message", [
    (CATALOG.replace("liver: A1", 'liver: "../../../../../../tmp/PWNED_task"'), "task_ids.liver: task id"),
    (CATALOG.replace("tissues: [liver]", "tissues: [../x]"), "tissues[0]: tissue '../x'"),
    (CATALOG, None),  # the valid one is read
    ("tissues: &t [liver]\n" + ALIAS_BOMB + CATALOG.split("\n", 1)[1], "alias bomb"),
    (CATALOG.replace("studies:\n", "studies: 5\nx:\n"), "field 'studies' must be a list"),
    (CATALOG.replace("{flight: 1, ground: 1}", "[1, 2]"), "field 'expected' must hold whole numbers"),
    (CATALOG.replace("{RR-1: {}}", "[RR-1]"), "field 'missions' must be a mapping"),
    ("- 1\n", "(top level): expected a mapping"),
])
def test_bad_catalog_is_one_line(tmp_path, text, message):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    if message is None:
        assert load_catalog(path).task_ids == {"liver": "A1"}
        return
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_catalog_fifo_and_device(fifo):
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(CatalogError, match="not a regular file"):
            load_catalog(path)


@pytest.mark.parametrize("text, message", [
    ('{"studies": [], "studies": []}', "duplicate key 'studies'"),
    ('{"studies": 3}', "studies: must be a list"),
    ('{"studies": [{"osd": "OSD-1", "tissue": "../x", "mission": "RR-1", "expected": {"flight": 1, "ground": 1}}]}',
     "tissue '../x'"),
    ('[1]', "(top level): expected an object"),
])
def test_bad_catalog_additions_is_one_line(tmp_path, text, message):
    (tmp_path / "catalog_additions.json").write_text(text)
    with pytest.raises(CatalogError) as err:
        load_additions(tmp_path)
    assert message in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------- bounds: time and peak memory
# Peak memory from VmHWM, this process's own high-water mark: Linux keeps ru_maxrss across execve, so
# a probe forked from a large pytest worker would report the worker's size.
_PROBE = textwrap.dedent("""
    import sys, time
    from genebench_assets.science.inputs import guarded_files as G
    def hwm_kb():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    base = hwm_kb()
    t0 = time.perf_counter()
    try:
        getattr(G, sys.argv[1])(sys.argv[2], max_bytes=int(sys.argv[3]))
        outcome = "read"
    except G.InputFileError as exc:
        outcome = "refused: " + str(exc)
    peak = hwm_kb()
    print(f"{time.perf_counter() - t0:.3f} {peak - base} {peak}")
    print(outcome)
""")


def _probe(tmp_path: Path, reader: str, path: Path, max_bytes: int):
    proc = subprocess.run([sys.executable, "-c", _PROBE, reader, str(path), str(max_bytes)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    numbers, outcome = proc.stdout.splitlines()
    seconds, grew_kb, peak_kb = numbers.split()
    return float(seconds), int(grew_kb), int(peak_kb), outcome


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/urandom", "alias bomb", "deep json", "huge int",
                                  "oversized"])
def test_refusals_are_fast_and_small(tmp_path, kind):
    reader, limit = ("load_yaml" if kind == "alias bomb" else "load_json"), 50 * G.MB
    path = tmp_path / "input"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind.startswith("/dev/"):
        path = Path(kind)
    elif kind == "alias bomb":
        path.write_text(ALIAS_BOMB)
    elif kind == "deep json":
        path.write_text("[" * 1_000_000 + "]" * 1_000_000)
    elif kind == "huge int":
        path.write_text("[" + "9" * 1_000_000 + "]")
    elif kind == "oversized":
        with path.open("wb") as fh:
            fh.truncate(200 * G.MB)  # sparse: 200 MB by stat, nothing on disk
    seconds, grew_kb, peak_kb, outcome = _probe(tmp_path, reader, path, limit)
    assert outcome.startswith("refused: "), outcome
    assert seconds < 1.0 and peak_kb < 200 * 1024 and grew_kb < 50 * 1024, (kind, seconds, grew_kb, peak_kb)
