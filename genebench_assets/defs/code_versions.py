"""Dagster code versions derived from the code an asset runs, so the UI marks downstream assets stale
after a science change (and only those).

`code_version_of(__file__, "asset_fn")` hashes (sha256, first 16 hex digits):
- the asset function's own source, and the source of every top-level function or constant of its
  module that it uses (transitively: `_score`, `METHODS`, ...);
- every defs helper function it imports (e.g. `tissue_inputs.load_tissue`), followed the same way;
- the whole source of every `genebench_assets.science` module it imports, and of the science modules
  those import (module-level and inside functions), transitively.

Why static analysis of the source text rather than importing and hashing bytecode: it is computed
while the defs module is still being imported (the value goes into the decorator), it is the same in
every process and Python build (it reads text, no `hash()` randomization, no bytecode), and nobody has
to keep a per-asset list of modules up to date. Dagster infrastructure (resources, partitions,
provenance) is deliberately not followed: it changes metadata, not the data an asset computes."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "genebench_assets"
SCIENCE = f"{PACKAGE}.science"
# Defs modules that only shape metadata for the UI (provenance, lineage tables): not the data.
METADATA_ONLY = {f"{PACKAGE}.defs.provenance", f"{PACKAGE}.defs.lineage", f"{PACKAGE}.defs.code_versions"}


@functools.lru_cache(maxsize=None)
def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


@functools.lru_cache(maxsize=None)
def _is_package(module: str) -> bool:
    """Only a package has submodules. Asked first because find_spec("pkg.mod.name") imports pkg.mod:
    for `from genebench_assets.definitions import defs` that would run definitions.py in the middle
    of importing a defs package on its own (a circular import)."""
    try:
        spec = importlib.util.find_spec(module)  # imports the parents of `module` only
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.submodule_search_locations is not None


@functools.lru_cache(maxsize=None)
def _parsed(path: Path) -> tuple[str, ast.Module]:
    text = path.read_text()
    return text, ast.parse(text, filename=str(path))


def _resolve_import(node: ast.ImportFrom | ast.Import, module_name: str) -> list[tuple[str, str | None]]:
    """[(module, imported name or None)] for an import statement; relative imports resolved."""
    if isinstance(node, ast.Import):
        return [(a.name, None) for a in node.names]
    base = node.module or ""
    if node.level:
        parts = module_name.split(".")[: -node.level]
        base = ".".join([*parts, base]) if base else ".".join(parts)
    return [(base, a.name) for a in node.names]


def _import_targets(node, module_name: str) -> dict[str, str]:
    """local name -> fully qualified target ('pkg.mod' or 'pkg.mod:name') of one import statement."""
    out = {}
    for (mod, name), alias in zip(_resolve_import(node, module_name), node.names):
        local = alias.asname or (alias.name if name is not None else alias.name.split(".")[0])
        if name is None:
            out[local] = mod
        # Package test first: find_spec("scipy.stats.x") imports scipy.stats, which cost seconds
        # of every process's definitions load for imports that are never followed anyway.
        elif mod.startswith(PACKAGE) and _is_package(mod) and _module_file(f"{mod}.{name}") is not None:
            out[local] = f"{mod}.{name}"  # `from pkg import submodule`
        else:
            out[local] = f"{mod}:{name}"
    return out


@functools.lru_cache(maxsize=None)
def _science_imports(module: str) -> frozenset[str]:
    """The science modules `module` imports anywhere in its source (not transitively)."""
    path = _module_file(module)
    if path is None:
        return frozenset()
    _, tree = _parsed(path)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update(t.split(":")[0] for t in _import_targets(node, module).values())
    return frozenset(m for m in out if m.startswith(SCIENCE))


def _science_closure(module: str, seen: set[str]) -> None:
    """Add `module` and every science module it imports (anywhere in its source) to `seen`."""
    if module in seen or not module.startswith(SCIENCE) or _module_file(module) is None:
        return
    seen.add(module)
    for imported in sorted(_science_imports(module)):
        _science_closure(imported, seen)


@functools.lru_cache(maxsize=None)
def _source_digest(module: str) -> str:
    return hashlib.sha256(_parsed(_module_file(module))[0].encode()).hexdigest()


class _Collector:
    def __init__(self):
        self.parts: dict[str, str] = {}  # identifier -> source text
        self.science: set[str] = set()

    def follow_function(self, module: str, name: str) -> None:
        key = f"{module}:{name}"
        if key in self.parts:
            return
        path = _module_file(module)
        if path is None:
            return
        text, tree = _parsed(path)
        top = {}
        imports: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                top[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        top[t.id] = node
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.update(_import_targets(node, module))
        node = top.get(name)
        if node is None or isinstance(node, ast.ClassDef):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # The body only: the decorator (deps, partitions) and the annotations (resources) are
            # wiring, and an upstream asset's code is versioned by that asset, not by this one.
            body = node.body
            self.parts[key] = "\n".join(ast.get_source_segment(text, stmt) or "" for stmt in body)
        else:
            body = [node]
            self.parts[key] = ast.get_source_segment(text, node) or ""
        local_imports = {}
        for sub in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(sub, (ast.Import, ast.ImportFrom)):
                local_imports.update(_import_targets(sub, module))
        used = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
        # Imports inside the function body are used by definition; module-level ones only if named.
        targets = list(local_imports.values()) + [imports[u] for u in used if u in imports and u not in local_imports]
        for target in targets:
            mod, _, fn = target.partition(":")
            if mod.startswith(SCIENCE):
                _science_closure(mod, self.science)
            elif mod.startswith(f"{PACKAGE}.defs") and mod not in METADATA_ONLY and fn and self._is_function(mod, fn):
                self.follow_function(mod, fn)
        for u in sorted(used - set(local_imports) - set(imports)):
            if u in top and u != name and not isinstance(top[u], ast.ClassDef):
                self.follow_function(module, u)

    @staticmethod
    def _is_function(module: str, name: str) -> bool:
        """Defs helpers are followed when they are functions; their classes and constants are wiring."""
        path = _module_file(module)
        if path is None:
            return False
        _, tree = _parsed(path)
        return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)

    def version(self) -> str:
        h = hashlib.sha256()
        for key in sorted(self.parts):
            h.update(f"{key}\n{self.parts[key]}\n".encode())
        for module in sorted(self.science):
            h.update(f"{module}\n{_source_digest(module)}\n".encode())
        return h.hexdigest()[:16]


def _module_name_of(defs_file: str) -> str:
    path = Path(defs_file).resolve()
    root = _module_file(PACKAGE)
    rel = path.relative_to(root.parent.parent).with_suffix("")
    return ".".join(rel.parts)


def code_inputs_of(defs_file: str, function: str) -> tuple[list[str], list[str]]:
    """(functions followed, science modules) behind an asset function: what its code version covers."""
    c = _Collector()
    c.follow_function(_module_name_of(defs_file), function)
    return sorted(c.parts), sorted(c.science)


def code_version_of(defs_file: str, function: str) -> str:
    """The Dagster code version of the asset function `function` defined in `defs_file`."""
    c = _Collector()
    module = _module_name_of(defs_file)
    c.follow_function(module, function)
    if f"{module}:{function}" not in c.parts:
        raise LookupError(f"{defs_file}: no top-level function {function!r} to derive a code version from")
    return c.version()
