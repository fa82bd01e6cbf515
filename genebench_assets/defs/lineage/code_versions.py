"""Dagster code versions derived from the code an asset can call, so the UI marks exactly the assets
whose computation may have changed stale after a science change (issue 19).

`code_version_of(__file__, "asset_fn")` hashes (sha256, first 16 hex digits) the call graph reachable
from the asset function, at function / class-method granularity:
- the asset function's body (its decorator and annotations are wiring: deps, partitions, resources);
- every function, class and module-level constant it references by name, through `from X import f`,
  `import X; X.f` and imports inside function bodies, transitively across the science core
  (`genebench_assets.science`) and the defs helpers (`genebench_assets.defs`, minus the metadata-only
  modules and minus Dagster definitions: an upstream asset's code is versioned by that asset);
- for a class: its header and fields, its dunder methods (called implicitly: `__init__`,
  `__post_init__`, operators) and the methods called on it or on its instances (below);
- the versions of the numerical libraries (NUMERIC_LIBRARIES) that the reachable code imports.

Attribute calls: `X.f` on an imported module and `Cls.m` on a class are resolved exactly. A method
called on an instance (`inputs.kwargs()`, `store.write_frame(...)`, `self._fit(...)`) cannot be
resolved without types, so it is resolved conservatively: every method of that name (and every
`getattr(obj, "name")`) in the classes of every module the reachable code touches is included. That
over-approximates (a `to_dict` call follows every reachable class's `to_dict`) but does not miss a
method of a class defined in code the asset reaches. Not seen: dispatch by computed names (other
than `getattr` with a literal) and methods of resources Dagster passes in whose module the reachable
code never touches (the signature is wiring).

Why static analysis of the source text rather than importing and hashing bytecode: it is computed
while the defs module is still being imported (the value goes into the decorator), it is the same in
every process and Python build (it reads text, no `hash()` randomization, no bytecode), and nobody has
to keep a per-asset list of functions up to date. Modules are located by path under this package, so
nothing is imported to compute a version."""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.metadata
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "genebench_assets"
SCIENCE = f"{PACKAGE}.science"
DEFS = f"{PACKAGE}.defs"
ROOT = Path(__file__).resolve().parents[2]  # the genebench_assets package directory
# Defs modules that only shape metadata for the UI (provenance, lineage tables): not the data.
METADATA_ONLY = {f"{DEFS}.lineage.provenance", f"{DEFS}.lineage.tracing", f"{DEFS}.lineage.code_versions"}
# Import name -> distribution of the libraries that compute results: a new version can move numbers
# (scikit-learn 1.9 alone moved RandomForest AUROCs by up to 0.16), so it is part of the version of
# every asset whose reachable code imports the library.
NUMERIC_LIBRARIES = {"numpy": "numpy", "scipy": "scipy", "sklearn": "scikit-learn", "xgboost": "xgboost",
                     "lightgbm": "lightgbm", "pydeseq2": "pydeseq2", "gseapy": "gseapy", "pandas": "pandas",
                     # J2's edgeR QLF and limma-voom ports (optional extra dge-pipelines: "absent" without it)
                     "edgepython": "edgepython", "pylimma": "pylimma",
                     # J3's ComBat-seq (sva::ComBat_seq port, defs/batch_correction; optional extra batch-correction)
                     "inmoose": "inmoose",
                     # T3's two-way ANOVA (OLS, type-II; defs/analyses/temporal.py)
                     "statsmodels": "statsmodels"}
# Decorators that leave a defs function a plain helper; any other (dg.asset, dg.asset_check, the
# modules' own asset/check factories) makes it a Dagster definition, which is not followed.
PLAIN_DECORATORS = {"functools", "contextlib", "property", "staticmethod", "classmethod", "dataclass",
                    "dataclasses", "lru_cache", "cache", "cached_property", "wraps", "contextmanager"}


@functools.cache
def installed_library_versions() -> dict[str, str]:
    """Distribution -> installed version of NUMERIC_LIBRARIES ("absent" when not installed)."""
    out = {}
    for dist in sorted(set(NUMERIC_LIBRARIES.values())):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


@dataclasses.dataclass(frozen=True)
class _Lib:
    name: str  # top-level import name of an external library (numpy, dagster, json, ...)


@dataclasses.dataclass(frozen=True)
class _Mod:
    name: str  # a module of this package, referenced as a whole (`from pkg import module`)


@dataclasses.dataclass
class _Module:
    """One parsed module: its top-level definitions by name and its module-level import bindings."""

    name: str
    is_package: bool
    lines: list[str]
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    classes: dict[str, ast.ClassDef]
    constants: dict[str, list[ast.stmt]]
    imports: dict[str, str]  # local name -> 'pkg.mod' (a module) or 'pkg.mod:name'
    methods_by_name: dict[str, list[str]]  # method name -> node keys 'mod:Cls.method'


@dataclasses.dataclass
class _Node:
    text: str
    refs: set[str] = dataclasses.field(default_factory=set)  # node keys it references
    modules: set[str] = dataclasses.field(default_factory=set)  # package modules it touches
    attrs: set[str] = dataclasses.field(default_factory=set)  # unresolved attribute names
    libs: set[str] = dataclasses.field(default_factory=set)  # numerical library distributions


@dataclasses.dataclass(frozen=True)
class CodeGraph:
    """What an asset's code version covers."""

    nodes: dict[str, str]  # 'module:qualname' -> source text hashed
    modules: frozenset[str]  # package modules with a reachable node
    libraries: frozenset[str]  # numerical library distributions the reachable code imports


def _stmt_lines(lines: list[str], node: ast.AST) -> str:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    return "".join(lines[start - 1:node.end_lineno])


def _import_bindings(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> dict[str, str]:
    """local name -> 'mod' (module) or 'mod:name' for one import statement, relative imports resolved."""
    if isinstance(node, ast.Import):
        # `import a.b` binds `a`; attribute chains walk down into submodules.
        return {(a.asname or a.name.split(".")[0]): (a.name if a.asname else a.name.split(".")[0]) for a in node.names}
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        parts = parts[: len(parts) - node.level + (1 if is_package else 0)]
        base = ".".join([*parts, base]) if base else ".".join(parts)
    return {(a.asname or a.name): f"{base}:{a.name}" for a in node.names if a.name != "*"}


class SourceTree:
    """The package's source, parsed once per module; `overrides` (path -> text) stand in for files,
    so tests can version an edited tree without writing it. Node infos are cached: they do not depend
    on the asset, only the traversal does."""

    def __init__(self, root: Path = ROOT, overrides: Mapping[Path | str, str] | None = None):
        self.root = Path(root)
        self.overrides = {Path(p).resolve(): t for p, t in (overrides or {}).items()}
        self._modules: dict[str, _Module | None] = {}
        self._nodes: dict[tuple[str, bool], _Node | None] = {}

    # ---- modules -------------------------------------------------------------------------------
    def module_file(self, module: str) -> Path | None:
        if module != PACKAGE and not module.startswith(PACKAGE + "."):
            return None
        rel = Path(*module.split(".")[1:])
        for path in (self.root / rel.with_suffix(".py") if rel.parts else None, self.root / rel / "__init__.py"):
            if path is not None and path.is_file():
                return path
        return None

    def followed(self, module: str) -> bool:
        return (module.startswith(SCIENCE) or module.startswith(DEFS)) and module not in METADATA_ONLY

    def module(self, name: str) -> _Module | None:
        if name in self._modules:
            return self._modules[name]
        path = self.module_file(name)
        parsed = None
        if path is not None:
            text = self.overrides.get(path.resolve())
            text = path.read_text() if text is None else text
            parsed = self._index(name, text, path.name == "__init__.py", str(path))
        self._modules[name] = parsed
        return parsed

    def _index(self, name: str, text: str, is_package: bool, filename: str) -> _Module:
        tree = ast.parse(text, filename=filename)
        m = _Module(name, is_package, text.splitlines(keepends=True), {}, {}, {}, {}, {})
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                m.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                m.classes[stmt.name] = stmt
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        m.methods_by_name.setdefault(item.name, []).append(f"{name}:{stmt.name}.{item.name}")
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                # `A, B = ...` and `_short.maxlist = ...` bind (or change) A, B and _short.
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            m.constants.setdefault(n.id, []).append(stmt)
            else:
                # Imports, also inside a top-level `if` / `try` (optional dependencies).
                for n in ast.walk(stmt):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        m.imports.update(_import_bindings(n, name, is_package))
        return m

    def submodule(self, module: str, name: str) -> str | None:
        sub = f"{module}.{name}"
        path = self.module_file(module)
        return sub if path is not None and path.name == "__init__.py" and self.module_file(sub) else None

    # ---- name resolution -----------------------------------------------------------------------
    def resolve_target(self, target: str, depth: int = 0):
        """An import target -> node key, _Mod, _Lib or None (not followed)."""
        mod, _, name = target.partition(":")
        top = mod.split(".")[0]
        if top != PACKAGE:
            return _Lib(top)
        if not name:
            return _Mod(mod) if self.followed(mod) and self.module_file(mod) else None
        sub = self.submodule(mod, name)
        if sub is not None:
            return _Mod(sub) if self.followed(sub) else None
        return self.resolve(mod, name, depth + 1) if self.followed(mod) else None

    def resolve(self, module: str, name: str, depth: int = 0):
        """A name in `module`'s global scope -> node key, _Mod, _Lib or None (a builtin, a local)."""
        m = self.module(module)
        if m is None or depth > 20:  # depth: re-export chains are short; a cycle is not a definition
            return None
        if name in m.functions:
            return None if self._is_dagster_definition(m, m.functions[name]) else f"{module}:{name}"
        if name in m.classes or name in m.constants:
            return f"{module}:{name}"
        if name in m.imports:
            return self.resolve_target(m.imports[name], depth)
        return None

    @staticmethod
    def _is_dagster_definition(m: _Module, fn) -> bool:
        """A decorated defs function other than a plain helper is an asset, check or sensor: its code
        is its own asset's version, never part of another's."""
        if not m.name.startswith(DEFS):
            return False
        for dec in fn.decorator_list:
            root = dec.func if isinstance(dec, ast.Call) else dec
            while isinstance(root, ast.Attribute):
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in PLAIN_DECORATORS):
                return True
        return False

    # ---- nodes -----------------------------------------------------------------------------------
    def node(self, key: str, body_only: bool = False) -> _Node | None:
        if (key, body_only) not in self._nodes:
            self._nodes[key, body_only] = self._build_node(key, body_only)
        return self._nodes[key, body_only]

    def _build_node(self, key: str, body_only: bool) -> _Node | None:
        module, _, qual = key.partition(":")
        m = self.module(module)
        if m is None:
            return None
        cls_name, _, method = qual.partition(".")
        if method:
            cls = m.classes.get(cls_name)
            fn = next((f for f in (cls.body if cls else ()) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and f.name == method), None)
            return None if fn is None else self._walk(m, _stmt_lines(m.lines, fn), [fn])
        if qual in m.functions:
            fn = m.functions[qual]
            if body_only:  # the asset itself: its decorator and signature are wiring
                text = "".join(m.lines[fn.body[0].lineno - 1:fn.body[-1].end_lineno])
                return self._walk(m, text, fn.body)
            return self._walk(m, _stmt_lines(m.lines, fn), [fn])
        if qual in m.classes:
            cls = m.classes[qual]
            methods = [f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
            skip = {i for f in methods for i in range(min([f.lineno, *(d.lineno for d in f.decorator_list)]),
                                                      f.end_lineno + 1)}
            start = min([cls.lineno, *(d.lineno for d in cls.decorator_list)])
            text = "".join(m.lines[i - 1] for i in range(start, cls.end_lineno + 1) if i not in skip)
            rest = [*cls.decorator_list, *cls.bases, *cls.keywords,
                    *(s for s in cls.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))]
            node = self._walk(m, text, rest)
            # Dunder methods run without being named (construction, operators, iteration).
            node.refs.update(f"{key}.{f.name}" for f in methods if f.name.startswith("__") and f.name.endswith("__"))
            return node
        if qual in m.constants:
            stmts = m.constants[qual]
            return self._walk(m, "".join(_stmt_lines(m.lines, s) for s in stmts), stmts)
        return None

    def _walk(self, m: _Module, text: str, roots: Iterable[ast.AST]) -> _Node:
        node = _Node(text=text, modules={m.name})
        # One pass over the syntax collects what is used; each distinct use is resolved once after it.
        uses: set[tuple[str, tuple[str, ...]]] = set()  # (name, attribute chain on it)
        local: dict[str, str] = {}  # imports inside the function body (lazy imports) shadow module-level ones
        stack = list(roots)
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Attribute):
                chain, base = [], n
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                if isinstance(base, ast.Name):
                    uses.add((base.id, tuple(reversed(chain))))
                    continue
                node.attrs.update(chain)
                n = base
            if isinstance(n, ast.Name):
                uses.add((n.id, ()))
                continue
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                local.update(_import_bindings(n, m.name, m.is_package))
                continue
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "getattr"
                    and len(n.args) >= 2 and isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str)):
                node.attrs.add(n.args[1].value)
            for field in n._fields:  # ast.iter_child_nodes, minus the many Load/Store contexts
                v = getattr(n, field, None)
                if isinstance(v, list):
                    stack.extend(x for x in v if isinstance(x, ast.AST))
                elif isinstance(v, ast.AST) and not isinstance(v, ast.expr_context):
                    stack.append(v)

        bindings = set()
        for name, chain in sorted(uses):
            if name in local:
                ref = self.resolve_target(local[name])
            else:
                if name in m.imports:
                    bindings.add(f"{name} -> {m.imports[name]}")
                ref = self.resolve(m.name, name)
            self._add_use(node, ref, list(chain))
        # The module-level import bindings used are code too: `import numpy as np` -> `import cupy as np`.
        node.text += "".join(f"\n# {b}" for b in sorted(bindings))
        return node

    def _add_use(self, node: _Node, ref, attrs: list[str]) -> None:
        """Record a resolved name and the attribute chain on it (`metrics.permutation_p`, `Cls.m`, `x.a.b`)."""
        while isinstance(ref, _Mod) and attrs:  # pkg.module.function
            node.modules.add(ref.name)
            sub = self.submodule(ref.name, attrs[0])
            ref = _Mod(sub) if sub else self.resolve(ref.name, attrs[0])
            attrs = attrs[1:]
        if isinstance(ref, _Lib):
            if ref.name in NUMERIC_LIBRARIES:
                node.libs.add(NUMERIC_LIBRARIES[ref.name])
            return  # np.sum, os.path.join, dg.Failure: the library's own attributes, not methods of ours
        if isinstance(ref, _Mod):
            node.modules.add(ref.name)
        elif isinstance(ref, str):
            node.refs.add(ref)
            mod, _, qual = ref.partition(":")
            target = self.module(mod)
            if attrs and "." not in qual and qual in target.classes \
                    and f"{ref}.{attrs[0]}" in target.methods_by_name.get(attrs[0], ()):
                node.refs.add(f"{ref}.{attrs[0]}")  # Cls.method, resolved exactly
                attrs = attrs[1:]
        node.attrs.update(attrs)  # the rest is used on values: resolved by name (module docstring)

    # ---- the call graph of one asset -----------------------------------------------------------
    def graph(self, module: str, function: str) -> CodeGraph:
        root = f"{module}:{function}"
        m = self.module(module)
        if m is None or function not in m.functions:
            raise LookupError(f"{module}: no top-level function {function!r} to derive a code version from")
        nodes, modules, attrs, libs = {}, set(), set(), set()
        queue: list[tuple[str, bool]] = [(root, True)]
        while queue:
            key, body_only = queue.pop()
            if key in nodes:
                continue
            info = self.node(key, body_only)
            if info is None:
                continue
            nodes[key] = info.text
            libs |= info.libs
            queue.extend((r, False) for r in info.refs)
            # An attribute used on a value of unknown type (`inputs.kwargs()`): conservatively every method
            # of that name in the classes of every module reached so far, or reached later.
            for name in info.attrs - attrs:
                attrs.add(name)
                for mod in modules:
                    queue.extend((k, False) for k in self.module(mod).methods_by_name.get(name, ()))
            for mod in info.modules - modules:
                modules.add(mod)
                for name, keys in self.module(mod).methods_by_name.items():
                    if name in attrs:
                        queue.extend((k, False) for k in keys)
        return CodeGraph(nodes, frozenset(k.partition(":")[0] for k in nodes), frozenset(libs))


_TREE = SourceTree()


def _module_name_of(defs_file: str, tree: SourceTree) -> str:
    rel = Path(defs_file).resolve().relative_to(tree.root.resolve()).with_suffix("")
    return ".".join([PACKAGE, *rel.parts])


def code_graph_of(defs_file: str, function: str, *, tree: SourceTree | None = None) -> CodeGraph:
    """The functions, methods, classes and constants (with their source) an asset function can call."""
    tree = tree or _TREE
    return tree.graph(_module_name_of(defs_file, tree), function)


def code_inputs_of(defs_file: str, function: str) -> tuple[list[str], list[str]]:
    """(nodes followed, science modules with a reachable node) behind an asset function."""
    g = code_graph_of(defs_file, function)
    return sorted(g.nodes), sorted(m for m in g.modules if m.startswith(SCIENCE))


def code_version_of(defs_file: str, function: str, *, tree: SourceTree | None = None,
                    library_versions: Mapping[str, str] | None = None) -> str:
    """The Dagster code version of the asset function `function` defined in `defs_file`."""
    g = code_graph_of(defs_file, function, tree=tree)
    versions = installed_library_versions() if library_versions is None else library_versions
    h = hashlib.sha256()
    for key in sorted(g.nodes):
        h.update(f"{key}\n{g.nodes[key]}\n".encode())
    for dist in sorted(g.libraries):
        h.update(f"{dist}=={versions.get(dist, 'absent')}\n".encode())
    return h.hexdigest()[:16]
