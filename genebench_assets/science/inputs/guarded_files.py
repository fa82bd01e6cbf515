"""The one guarded reader for every file a user hands in (issue 25): submissions of both benchmarks,
run configs, catalogs and catalog additions, mirror `study.yaml`, checksum manifests, question banks.

Every refusal is an ``InputFileError``: one line naming the file, the field and the value, raised
before more than ``max_bytes + 1`` bytes are read and before any structure is expanded:

- regular files only: ``os.stat`` first (a FIFO, device, socket or directory is refused unread), then
  ``O_NONBLOCK`` open and ``fstat`` again, so a FIFO swapped in between cannot hang the reader;
- a size limit per kind of file (``LIMITS``); at most ``max_bytes + 1`` bytes are ever read;
- UTF-8 text (a UTF-8 BOM is dropped); NUL bytes (binary) and UTF-16/32 are refused;
- JSON: duplicate keys refused, integers of more than ``MAX_INT_DIGITS`` digits and non-finite floats
  refused (or, for submissions, kept as ``OversizedNumber`` / inf / NaN for the validator to list),
  nesting bounded (``MAX_DEPTH``);
- YAML: libyaml's safe loader (``GuardedSafeLoader``); the composed node graph is checked before any
  Python object is built: alias references (``MAX_ALIASES``), the size of the document with every
  alias expanded (``MAX_EXPANDED_NODES``), nesting, recursive aliases, duplicate keys, huge integers;
- identifiers (tissue, mission, accession from ``science/osdr/identifiers.py``; task id and model
  name here) and derived output paths (``path_inside``) are pattern-checked.

No Dagster import (science core).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, Callable

import yaml

from genebench_assets.science.osdr.identifiers import IdentifierError, _match, path_inside  # noqa: F401

MB = 1024 * 1024
# Largest file read, per kind (bytes). A real one of each is far smaller.
LIMITS = {
    "submission": 50 * MB,       # genebench evaluate; raise with --max-bytes
    "run_config": 1 * MB,
    "catalog": 5 * MB,
    "catalog_additions": 20 * MB,
    "study_yaml": 1 * MB,
    "manifest": 5 * MB,
    "question_bank": 50 * MB,
    "task_definition": 5 * MB,
}
MAX_DEPTH = 64                 # nesting of any JSON / YAML document
MAX_INT_DIGITS = 100           # an integer with more digits is not a usable number anywhere here
MAX_FLOAT_CHARS = 400          # a float literal longer than this is refused (or marked) likewise
MAX_ALIASES = 100              # YAML alias references per document
MAX_EXPANDED_NODES = 200_000   # YAML nodes with every alias expanded

TASK_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][\w.-]{0,63}")


class InputFileError(ValueError):
    """A file or value a user handed in cannot be used; the message is one line:
    ``<file>: <field>: <what is wrong> (value: ...)``."""

    def __init__(self, source: str | Path, field: str, problem: str):
        self.source, self.field, self.problem = str(source), field, problem
        super().__init__(f"{source}: {field}: {problem}")


def short(value: Any, n: int = 60) -> str:
    """A value quoted in a message, cut short (a hostile value can be a 50 MB string)."""
    if isinstance(value, str) and len(value) > n:
        return repr(value[:n]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------------------------- bytes and text
_KIND = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KIND if test(mode)), "not a regular file")


def check_file(path: str | Path, *, max_bytes: int, hint: str = "") -> os.stat_result:
    """Without opening it: ``path`` is a regular file of at most ``max_bytes``; InputFileError otherwise."""
    source = str(path)
    if max_bytes <= 0:
        raise InputFileError(source, "(limit)", f"the size limit must be positive, got {max_bytes}")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputFileError(source, "(file)", "file not found") from None
    except NotADirectoryError:
        raise InputFileError(source, "(file)", "a parent of this path is a file, not a directory") from None
    except OSError as exc:
        raise InputFileError(source, "(file)", f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(source, "(file)", f"is {_kind(info.st_mode)}, not a regular file")
    over = f"over the limit of {max_bytes} bytes" + (f" ({hint})" if hint else "")
    if info.st_size > max_bytes:
        raise InputFileError(source, "(file)", f"is {info.st_size} bytes, {over}")
    return info


def read_bytes(path: str | Path, *, max_bytes: int, hint: str = "") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; InputFileError otherwise."""
    source = str(path)
    check_file(path, max_bytes=max_bytes, hint=hint)
    over = f"over the limit of {max_bytes} bytes" + (f" ({hint})" if hint else "")
    try:  # O_NONBLOCK: a FIFO swapped in after the stat cannot block the open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputFileError(source, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(source, "(file)", f"is {_kind(info.st_mode)}, not a regular file")
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise InputFileError(source, "(file)", f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # grew since the stat
        raise InputFileError(source, "(file)", f"is {over}")
    return data


def decode_text(data: bytes, source: str | Path) -> str:
    """UTF-8 text without NUL bytes (a leading UTF-8 BOM is dropped)."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise InputFileError(source, "(encoding)", "is UTF-32 text; save it as UTF-8")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFileError(source, "(encoding)", "is UTF-16 text; save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(source, "(encoding)", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                             f"{exc.start})") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        head = data[:64]
        if len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4):
            raise InputFileError(source, "(encoding)", "looks like UTF-16 text (NUL bytes between characters); "
                                 "save it as UTF-8")
        raise InputFileError(source, "(encoding)", f"not UTF-8 text: binary data (NUL byte at offset {nul})")
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str | Path, *, max_bytes: int, hint: str = "") -> str:
    return decode_text(read_bytes(path, max_bytes=max_bytes, hint=hint), str(path))


# -------------------------------------------------------------------------------------------- JSON
class OversizedNumber(str):
    """A JSON number too long to use (kept as its text for a validator to list, never converted)."""

    def __repr__(self) -> str:
        return f"<number of {len(self)} characters>"


class _Refusal(Exception):
    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem


def refuse_duplicate_keys(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _Refusal(f"key {short(k)}", f"duplicate key {short(k)} in one object (JSON would silently "
                               "keep the last)")
            seen.add(k)
    return obj


def _number_hooks(numbers: str):
    keep = numbers == "keep"

    def parse_int(s: str):
        if len(s) - s.startswith("-") > MAX_INT_DIGITS:
            if keep:
                return OversizedNumber(s)
            raise _Refusal("(number)", f"an integer of {len(s)} digits (at most {MAX_INT_DIGITS}): {short(s, 20)}")
        return int(s)

    def parse_float(s: str):
        if len(s) > MAX_FLOAT_CHARS:
            if keep:
                return OversizedNumber(s)
            raise _Refusal("(number)", f"a number of {len(s)} characters (at most {MAX_FLOAT_CHARS}): {short(s, 20)}")
        v = float(s)
        if not keep and not math.isfinite(v):
            raise _Refusal("(number)", f"{short(s, 20)} does not fit a float (it overflows to infinity)")
        return v

    def parse_constant(s: str):
        if keep:
            return float(s)
        raise _Refusal("(number)", f"{s} is not a finite number")

    return parse_int, parse_float, parse_constant


def _depth_problem(obj, max_depth: int) -> str | None:
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return None


def parse_json(text: str, source: str | Path, *, max_depth: int = MAX_DEPTH, numbers: str = "refuse",
               object_pairs_hook: Callable | None = None):
    """``text`` as JSON within the bounds above. ``numbers="keep"`` keeps unusable numbers for a
    validator to list (``OversizedNumber``, inf, NaN) instead of refusing the file."""
    parse_int, parse_float, parse_constant = _number_hooks(numbers)
    try:
        obj = json.loads(text, object_pairs_hook=object_pairs_hook or refuse_duplicate_keys, parse_int=parse_int,
                         parse_float=parse_float, parse_constant=parse_constant)
    except _Refusal as exc:
        raise InputFileError(source, exc.field, exc.problem) from None
    except InputFileError:
        raise
    except json.JSONDecodeError as exc:
        raise InputFileError(source, f"line {exc.lineno} column {exc.colno}", f"not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputFileError(source, "(structure)", f"nested too deep to parse (at most {max_depth} levels)") from None
    except (ValueError, OverflowError) as exc:
        raise InputFileError(source, "(value)", f"not usable JSON: {' '.join(str(exc).split())[:120]}") from None
    problem = _depth_problem(obj, max_depth)
    if problem:
        raise InputFileError(source, "(structure)", problem)
    return obj


def load_json(path: str | Path, *, max_bytes: int, hint: str = "", **kwargs):
    return parse_json(read_text(path, max_bytes=max_bytes, hint=hint), str(path), **kwargs)


# -------------------------------------------------------------------------------------------- YAML
_INT_TAG = "tag:yaml.org,2002:int"


def check_yaml_nodes(root, source: str, *, max_aliases: int = MAX_ALIASES,
                     max_expanded: int = MAX_EXPANDED_NODES, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a composed YAML node graph that is an alias bomb, recursive, too deep, has a duplicate
    mapping key or an integer too long to use. Iterative; each node is visited once."""
    seen: set[int] = set()
    sizes: dict[int, int] = {}
    aliases = 0
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]

    def where(node) -> str:
        mark = getattr(node, "start_mark", None)
        return f"line {mark.line + 1}" if mark is not None else "(document)"

    def children(node):
        if isinstance(node, yaml.MappingNode):
            return [c for pair in node.value for c in pair]
        if isinstance(node, yaml.SequenceNode):
            return node.value
        return ()

    while stack:
        node, depth, done = stack.pop()
        if done:
            size = 1 + sum(sizes[id(c)] for c in children(node))
            if size > max_expanded:
                raise InputFileError(source, where(node), f"expands to more than {max_expanded} values through "
                                     f"aliases (a YAML alias bomb?); {aliases} alias references so far")
            sizes[id(node)] = size
            continue
        if id(node) in seen:
            if id(node) not in sizes:
                raise InputFileError(source, where(node), "a recursive alias (a node that contains itself)")
            aliases += 1
            if aliases > max_aliases:
                raise InputFileError(source, where(node), f"more than {max_aliases} alias references (*name); "
                                     "write the values out")
            continue
        seen.add(id(node))
        if depth > max_depth:
            raise InputFileError(source, where(node), f"nested deeper than {max_depth} levels")
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
                raise InputFileError(source, where(node), f"an integer of {len(node.value)} digits (at most "
                                     f"{MAX_INT_DIGITS}): {short(node.value, 20)}")
            sizes[id(node)] = 1
            continue
        if isinstance(node, yaml.MappingNode):
            keys = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in keys:
                        raise InputFileError(source, where(key), f"duplicate key {short(key.value)} in one mapping "
                                             "(YAML would silently keep the last)")
                    keys.add(key.value)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in reversed(children(node)))


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class GuardedSafeLoader(_Base):  # type: ignore[misc, valid-type]
    """yaml's safe loader (libyaml's when present) whose composed document is checked by
    ``check_yaml_nodes`` before any Python object is constructed."""

    source = "<yaml>"

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            check_yaml_nodes(node, self.source)
        return node


def parse_yaml(text: str, source: str | Path):
    loader_cls = type("GuardedSafeLoaderFor", (GuardedSafeLoader,), {"source": str(source)})
    loader = loader_cls(text)
    try:
        return loader.get_single_data()
    except InputFileError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark else "(document)"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputFileError(source, at, f"not valid YAML ({' '.join(str(problem).split())[:120]})") from None
    except RecursionError:
        raise InputFileError(source, "(structure)", f"nested too deep (at most {MAX_DEPTH} levels)") from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. an unhashable key, a bad timestamp
        raise InputFileError(source, "(value)", f"not usable YAML: {' '.join(str(exc).split())[:120]}") from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path, *, max_bytes: int, hint: str = ""):
    return parse_yaml(read_text(path, max_bytes=max_bytes, hint=hint), str(path))


# ------------------------------------------------------------------------------------- identifiers
def validate_task_id(value: Any, where: str = "") -> str:
    """A task id (A1, B6, F4): a letter, then letters, digits, '_' or '-'; never a path."""
    return _match(TASK_ID_PATTERN, "task id", value, "a letter, then letters, digits, '_' or '-', at most 32, "
                  "e.g. 'A2'", where)


def validate_model_name(value: Any, where: str = "") -> str:
    return _match(MODEL_NAME_PATTERN, "model name", value, "letters, digits, '_', '-' and '.', at most 64", where)
