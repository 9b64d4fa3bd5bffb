"""``Pipeline``: build, serialize, and run a pipeline on the Rust engine or the Python executor."""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import logging
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import runtime as _runtime
from ..errors import RuntimeSelectionError
from .node import Node

__all__ = ["Pipeline", "RunInfo"]

logger = logging.getLogger("remotemedia")

#: Largest batch (inputs x nodes) that a single-stage Rust plan runs on the calling thread: about a
#: millisecond of work at most, less than the cost of a thread hop for smaller runs.
_BLOCKING_WORK = 20_000


@dataclass
class RunInfo:
    """Which runtime ran the last ``run()``/``process()`` (see :attr:`Pipeline.last_run`)."""

    #: ``"rust"`` (the engine) or ``"python"`` (the pure-Python executor).
    runtime: str
    #: Node id → what ran it: ``"rust"`` (a native node), ``"rustpython"`` or ``"cpython"`` (a
    #: Python node inside the engine), or ``"python"`` (the pure-Python executor).
    nodes: dict[str, str] = field(default_factory=dict)
    #: Why the Python executor ran instead of the Rust engine (``None`` when Rust ran, or when
    #: Python was asked for).
    fallback_reason: str | None = None


#: Overrides every Python node's ``runtime_hint`` in this process (``auto``, ``rustpython`` or
#: ``cpython``); read by the engine too.
INTERPRETER_ENV = "REMOTEMEDIA_PYTHON_INTERPRETER"


def interpreter_hint(node: Node) -> str:
    """The hint that decides where a custom node runs: :data:`INTERPRETER_ENV` when set, else the
    node's own ``runtime_hint``."""
    forced = os.environ.get(INTERPRETER_ENV, "").strip()
    if forced and forced not in ("auto", "rustpython", "cpython"):
        raise RuntimeSelectionError(
            f'{INTERPRETER_ENV}="{forced}" is not valid; expected "auto", "rustpython" or "cpython"'
        )
    return forced or node.runtime_hint


def python_location(node: Node) -> dict[str, Any]:
    """Where a custom node's class lives, as manifest fields: the manifest description it was
    loaded from, if any; else ``module`` + ``class`` when the binary can import its module by name
    (see :func:`importable_elsewhere`), else the module's ``source`` + ``class`` (classes defined in
    ``__main__``, a notebook, a test file or a script's folder). Built-in nodes need none."""
    from ..nodes import NativeNode

    cls = type(node)
    if isinstance(node, NativeNode):
        return {}
    described = getattr(node, "_manifest_location", None)
    if described is not None:
        return dict(described)
    module_name = cls.__module__
    module = sys.modules.get(module_name)
    if module is not None and importable_elsewhere(module):
        return {"module": module_name, "class": cls.__qualname__}
    try:
        source = class_source(inspect.getsource(module), cls.__name__) if module is not None else None
    except (OSError, TypeError, ValueError):
        source = None
    return {"source": source or inspect.getsource(cls), "class": cls.__qualname__}


def importable_elsewhere(module: Any) -> bool:
    """Whether another process of this Python installation (the ``remotemedia-runtime`` binary's
    embedded CPython, which reads the same site-packages, an active virtual environment and
    ``PYTHONPATH``) can import ``module`` by name: it comes from the standard library, from an
    installed distribution (editable installs included), from a folder on ``PYTHONPATH`` or one a
    site ``.pth`` file adds. A module this process imports only because a script's folder, the
    working directory or a test runner was put on ``sys.path`` is not."""
    name = getattr(module, "__name__", "__main__")
    spec = getattr(module, "__spec__", None)
    if name == "__main__" or spec is None or spec.name != name:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    if spec.origin is None:
        return False
    if name.split(".")[0] in _installed_top_levels():
        return True
    origin = os.path.realpath(spec.origin)
    return any(origin.startswith(root + os.sep) for root in _environment_roots())


_ROOTS: tuple[str, ...] | None = None


def _environment_roots() -> tuple[str, ...]:
    """Folders any process of this installation searches: the standard library, site-packages,
    ``PYTHONPATH`` and the folders site ``.pth`` files add."""
    global _ROOTS
    if _ROOTS is None:
        import site
        import sysconfig

        roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        sites = [*site.getsitepackages(), site.getusersitepackages()]
        roots.update(sites)
        roots.update(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
        for folder in sites:
            try:
                pth_files = [f for f in os.listdir(folder) if f.endswith(".pth")]
            except OSError:
                continue
            for pth in pth_files:
                try:
                    lines = Path(folder, pth).read_text().splitlines()
                except (OSError, UnicodeDecodeError):
                    continue
                roots.update(line.strip() for line in lines if line.strip() and not line.startswith(("#", "import")))
        _ROOTS = tuple(sorted({os.path.realpath(r) for r in roots}))
    return _ROOTS


_TOP_LEVELS: frozenset[str] | None = None


def _installed_top_levels() -> frozenset[str]:
    """Top-level modules that installed distributions provide (Python 3.10+; empty before)."""
    global _TOP_LEVELS
    if _TOP_LEVELS is None:
        try:
            from importlib.metadata import packages_distributions

            _TOP_LEVELS = frozenset(packages_distributions())
        except ImportError:
            _TOP_LEVELS = frozenset()
    return _TOP_LEVELS


def class_source(module_source: str, class_name: str) -> str:
    """The part of a module's source that class ``class_name`` needs: its definition and, in source
    order, every top-level import, function, class and assignment it uses (transitively), plus
    ``from __future__`` imports. A script's other work (and imports only it uses, such as a test
    framework) is left out, so loading the result elsewhere runs nothing else."""
    import ast

    tree = ast.parse(module_source)
    defines: dict[str, list[int]] = {}
    for k, stmt in enumerate(tree.body):
        for name in _bound_names(stmt):
            defines.setdefault(name, []).append(k)
    if class_name not in defines:
        raise ValueError(f"class `{class_name}` is not defined at the top level of its module")
    keep = {k for k, stmt in enumerate(tree.body) if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"}
    # For top-level imports, only the names actually used are kept.
    imported: dict[int, set[str]] = {}
    todo = [(k, class_name) for k in defines[class_name]]
    while todo:
        k, name = todo.pop()
        stmt = tree.body[k]
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imported.setdefault(k, set()).add(name)
        if k in keep:
            continue
        keep.add(k)
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        used = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        todo.extend((j, name) for name in used for j in defines.get(name, []))
    lines = module_source.splitlines()
    parts = []
    for k in sorted(keep):
        stmt = tree.body[k]
        if k in imported:
            names = imported[k]
            stmt.names = [a for a in stmt.names if (a.asname or a.name.split(".")[0]) in names]  # type: ignore[union-attr]
            parts.append(ast.unparse(stmt))
            continue
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        parts.append("\n".join(lines[start - 1 : stmt.end_lineno]))
    return "\n\n".join(parts) + "\n"


def _bound_names(stmt: Any) -> set[str]:
    """Names a top-level statement binds (imports, definitions, assignment targets)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if node is not stmt:
                continue
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    return names


def rebuild_location(node: Node) -> dict[str, Any]:
    """Manifest fields that rebuild a live node elsewhere (its own RustPython VM): the manifest
    description it came from, else its class's source (see :func:`class_source`)."""
    described = getattr(node, "_manifest_location", None)
    if described is not None:
        return dict(described)
    cls = type(node)
    if "<locals>" in cls.__qualname__:
        raise RuntimeSelectionError(
            f"class `{cls.__qualname__}` is defined inside a function, so it cannot be rebuilt in its own "
            "interpreter; define it at module level"
        )
    module = sys.modules.get(cls.__module__)
    try:
        return {"source": class_source(inspect.getsource(module), cls.__name__), "class": cls.__name__}
    except (OSError, TypeError, ValueError) as e:
        raise RuntimeSelectionError(f"cannot find the source of class `{cls.__qualname__}` to rebuild it: {e}") from e


def _engine_for_manifest(doc: Any) -> Any:
    """The engine module when it will run a pipeline built from ``doc`` (installed, not turned off
    by ``REMOTEMEDIA_RUNTIME=python``, and no node asks for ``runtime_hint: python``), else ``None``."""
    if _runtime.runtime_mode() == "python" or not _runtime.rust_runtime_available(_runtime.runtime_mode()):
        return None
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    if isinstance(nodes, list) and any(isinstance(n, dict) and n.get("runtime_hint") == "python" for n in nodes):
        return None
    return _runtime._runtime


class Pipeline:
    """An ordered set of nodes and the connections between them.

    Without explicit :meth:`connect` calls the nodes form a chain in the order they were added.
    """

    def __init__(self, name: str | None = None, nodes: Iterable[Node] | None = None) -> None:
        self.name = name or "pipeline"
        self._nodes: list[Node] = []
        self._connections: list[tuple[str, str]] | None = None
        #: What ran the last run (set by :meth:`run` and :meth:`process`).
        self.last_run: RunInfo | None = None
        self._plan_cache: tuple[str, Any, Any] | None = None
        self._prepared: tuple[Any, tuple[Any, Any, RunInfo]] | None = None
        # Bumped by every structural change; keys the cached validation and engine plan.
        self._version = 0
        self._checked: tuple[Any, list[str], list[tuple[int, int]]] | None = None
        for node in nodes or ():
            self.add_node(node)

    # -- building ---------------------------------------------------------------------------

    def add_node(self, node: Node) -> Pipeline:
        """Appends a node; returns the pipeline, so calls can be chained."""
        if not isinstance(node, Node):
            raise TypeError(f"add_node() takes a remotemedia Node, got {type(node).__name__}")
        self._nodes.append(node)
        self._version += 1
        return self

    def connect(self, source: Node | str, target: Node | str) -> Pipeline:
        """Adds an edge (by node or node id). Once any edge is added, only explicit edges exist."""
        if self._connections is None:
            self._connections = []
        self._connections.append((self._id_of(source), self._id_of(target)))
        self._version += 1
        return self

    def fresh_copy(self) -> Pipeline:
        """A pipeline of the same structure with its own copies of the nodes (deep copies, so a
        copy's state never touches the original's): what :meth:`run_files` runs each file on."""
        import copy

        clone = Pipeline(self.name, [copy.deepcopy(node) for node in self._nodes])
        if self._connections is not None:
            clone._connections = list(self._connections)
        return clone

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in the order they were added."""
        return list(self._nodes)

    def node_ids(self) -> list[str]:
        """Each node's manifest id: its ``name``, or ``<node_type>_<position>``."""
        return [n.name or f"{n.node_type}_{i}" for i, n in enumerate(self._nodes)]

    def _id_of(self, node: Node | str) -> str:
        if isinstance(node, str):
            return node
        for i, n in enumerate(self._nodes):
            if n is node:
                return self.node_ids()[i]
        raise ValueError(f"{node!r} is not part of pipeline {self.name!r}")

    def _edges(self) -> list[tuple[str, str]]:
        if self._connections is not None:
            return list(self._connections)
        ids = self.node_ids()
        return list(zip(ids, ids[1:]))

    # -- manifests --------------------------------------------------------------------------

    def to_manifest(self) -> dict[str, Any]:
        """The pipeline as a manifest v1 dict."""
        return self._manifest()

    def _live_nodes(self) -> dict[str, Node]:
        """The custom nodes the engine drives as they are, in this interpreter: every Python node
        not described by a manifest, unless its hint sends it to its own RustPython VM."""
        from ..nodes import NativeNode

        return {
            node_id: node
            for node_id, node in zip(self.node_ids(), self._nodes)
            if not isinstance(node, NativeNode)
            and getattr(node, "_manifest_location", None) is None
            and interpreter_hint(node) in ("auto", "cpython")
        }

    def _manifest(self, live: set[str] | None = None) -> dict[str, Any]:
        """The manifest; for the engine (``live`` given), live nodes are named only (the engine
        is handed the objects themselves) and other custom nodes carry what rebuilds them."""
        from ..nodes import NativeNode

        nodes = []
        for node_id, node in zip(self.node_ids(), self._nodes):
            entry: dict[str, Any] = {"id": node_id, "node_type": node.node_type}
            if live is None:
                entry.update(python_location(node))
            elif not isinstance(node, NativeNode) and node_id not in live:
                entry.update(rebuild_location(node))
            if node.params and node_id not in (live or ()):
                entry["params"] = dict(node.params)
            if node.runtime_hint != "auto":
                entry["runtime_hint"] = node.runtime_hint
            if getattr(node, "timeout_ms", None) is not None:
                entry["timeout_ms"] = node.timeout_ms
            nodes.append(entry)
        return {
            "version": "v1",
            "metadata": {
                "name": self.name,
                "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            },
            "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in self._edges()],
        }

    def serialize(self, indent: int | None = None) -> str:
        """The pipeline as manifest v1 JSON text."""
        return json.dumps(self.to_manifest(), indent=indent)

    @classmethod
    def from_manifest(cls, source: str | os.PathLike[str] | dict[str, Any]) -> Pipeline:
        """Builds a pipeline from a manifest: a dict, JSON or YAML text, or a file path.

        Raises :class:`~remotemedia.errors.ManifestError` listing every problem. When the Rust
        engine will run the pipeline, the engine checks it (and loads its Python nodes, RustPython
        first); otherwise the pure-Python executor's validator does, with the same messages, and
        loads the Python nodes into this interpreter.
        """
        from ..manifest import load_manifest

        doc, origin = load_manifest(source)
        base_dir = None
        if isinstance(source, os.PathLike) or (isinstance(source, str) and origin != "(inline)"):
            base_dir = Path(source).resolve().parent
        module = _engine_for_manifest(doc)
        if module is None:
            return cls._from_python_validated(doc, origin, base_dir)
        plan = module.plan(json.dumps(doc), None, origin=origin, base_dir=str(base_dir) if base_dir else None)
        pipeline = cls._from_engine_validated(doc, base_dir)
        pipeline._plan_cache = (pipeline._plan_key(), module, plan)
        return pipeline

    @classmethod
    def _from_python_validated(cls, doc: Any, origin: str, base_dir: Path | None) -> Pipeline:
        from ..manifest import validate_manifest
        from ..nodes import NODE_TYPES
        from .described import DescribedNode

        plan = validate_manifest(doc, origin, base_dir=base_dir)
        pipeline = cls(plan.name)
        for decl in plan.nodes:
            if decl.instance is not None:
                location = {k: v for k, v in decl.python.items() if k != "timeout_ms"}
                pipeline.add_node(
                    DescribedNode(
                        decl.id,
                        decl.node_type,
                        location,
                        decl.params,
                        decl.runtime_hint or "auto",
                        decl.python.get("timeout_ms"),
                        base_dir,
                        instance=decl.instance,
                    )
                )
                continue
            node_cls = NODE_TYPES[decl.node_type]
            pipeline.add_node(node_cls(name=decl.id, runtime_hint=decl.runtime_hint or "auto", **decl.params))
        ids = [d.id for d in plan.nodes]
        pipeline._connections = [(ids[a], ids[b]) for a, b in plan.edges]
        return pipeline

    @classmethod
    def _from_engine_validated(cls, doc: dict[str, Any], base_dir: Path | None) -> Pipeline:
        """Builds the pipeline's nodes from a manifest the engine has checked (so nothing here
        can fail); Python nodes stay descriptions (see :class:`~remotemedia.core.described.DescribedNode`)."""
        from ..nodes import NODE_TYPES
        from ..nodes.spec import resolve_path
        from .described import DescribedNode

        pipeline = cls((doc.get("metadata") or {}).get("name"))
        for raw in doc["nodes"]:
            params = raw.get("params") or {}
            hint = raw.get("runtime_hint") or "auto"
            if "class" in raw:
                location = {k: raw[k] for k in ("module", "file", "source", "class") if k in raw}
                pipeline.add_node(
                    DescribedNode(raw["id"], raw["node_type"], location, params, hint, raw.get("timeout_ms"), base_dir)
                )
            else:
                node_cls = NODE_TYPES[raw["node_type"]]
                for spec in node_cls.PARAMS:
                    if spec.path and spec.name in params:
                        params = {**params, spec.name: resolve_path(params[spec.name], base_dir)[0]}
                pipeline.add_node(node_cls(name=raw["id"], runtime_hint=hint, **params))
        if doc.get("connections") is not None:
            pipeline._connections = [(c["from"], c["to"]) for c in doc["connections"]]
        return pipeline

    def _structure_key(self) -> tuple[Any, ...]:
        return (self._version, *(n.runtime_hint for n in self._nodes), *(n.name for n in self._nodes))

    def _validated(self) -> tuple[list[str], list[tuple[int, int]]]:
        """Checks ids and the graph with the engine's rules (custom nodes included); cached until
        the pipeline changes."""
        key = self._structure_key()
        if self._checked is not None and self._checked[0] == key:
            return self._checked[1], self._checked[2]
        ids, edges = self._check_structure()
        self._checked = (key, ids, edges)
        return ids, edges

    def _check_structure(self) -> tuple[list[str], list[tuple[int, int]]]:
        from ..errors import ManifestError
        from ..manifest import check_graph, check_id

        ids = self.node_ids()
        issues = [] if self._nodes else ["nodes: a pipeline needs at least one node, found none"]
        first_use: dict[str, int] = {}
        for i, node_id in enumerate(ids):
            issues.extend(check_id(i, node_id, first_use))
        edges, graph_issues = check_graph(ids, first_use, self._edges())
        issues.extend(graph_issues)
        if issues:
            raise ManifestError(issues, origin=f"pipeline {self.name!r}")
        return ids, edges

    # -- running ----------------------------------------------------------------------------

    def _select(self, use_rust: bool, mode: str, ids: list[str]) -> tuple[Any, str | None]:
        """Chooses the runtime: ``(rust module or None, why Python runs instead)``."""
        from ..nodes import NativeNode

        for node_id, node in zip(ids, self._nodes):
            if node.runtime_hint == "rust" and not isinstance(node, NativeNode):
                raise RuntimeSelectionError(
                    f"node `{node_id}` (`{node.node_type}`) has runtime_hint='rust' but no native implementation; "
                    "use runtime_hint='auto' or 'python'"
                )
        wants_rust = self._engine_hints(ids)
        if not use_rust or mode == "python":
            why = "use_rust=False" if not use_rust else "REMOTEMEDIA_RUNTIME=python"
            if wants_rust:
                node_id, hint = wants_rust[0]
                raise RuntimeSelectionError(
                    f"node `{node_id}` has runtime_hint={hint!r} but the Rust runtime is disabled ({why})"
                )
            return None, why
        if not _runtime.rust_runtime_available(mode):
            reason = f"the Rust runtime is not installed ({_runtime.unavailable_reason()})"
            if mode == "rust" or wants_rust:
                raise RuntimeSelectionError(f"{reason}; {_runtime.INSTALL_HINT}")
            return None, reason
        module = _runtime._runtime
        python_only = [
            f"node `{i}` (`{n.node_type}`) asks for runtime_hint='python'"
            for i, n in zip(ids, self._nodes)
            if n.runtime_hint == "python"
        ]
        if python_only:
            reason = "; ".join(python_only)
            if mode == "rust":
                raise RuntimeSelectionError(
                    f"REMOTEMEDIA_RUNTIME=rust, but the Rust engine cannot run this pipeline: {reason}"
                )
            return None, reason
        return module, None

    def _engine_hints(self, ids: list[str]) -> list[tuple[str, str]]:
        """``(node id, hint)`` for the hints only the engine can honour: ``rust`` on a native node,
        ``rustpython``/``cpython`` (or :data:`INTERPRETER_ENV`) on a custom node."""
        from ..nodes import NativeNode

        pinned = []
        for node_id, node in zip(ids, self._nodes):
            hint = node.runtime_hint if isinstance(node, NativeNode) else interpreter_hint(node)
            if hint in ("rust", "rustpython", "cpython"):
                pinned.append((node_id, hint))
        return pinned

    def _plan_key(self) -> tuple[Any, ...]:
        return (*self._structure_key(), os.environ.get(INTERPRETER_ENV, ""))

    def _plan_rust(self, module: Any) -> Any:
        """Asks the engine to plan the whole pipeline before any input is consumed (cached while
        the pipeline's description does not change). The engine checks it: its problems come as
        :class:`~remotemedia.errors.ManifestError`, in its words."""
        key = self._plan_key()
        cached = self._plan_cache
        if cached is not None and cached[0] == key and cached[1] is module:
            return cached[2]
        live = self._live_nodes()
        doc = self._manifest(live=set(live))
        del doc["metadata"]["created_at"]
        plan = module.plan(json.dumps(doc), live or None, origin=f"pipeline {self.name!r}")
        self._plan_cache = (key, module, plan)
        return plan

    def _python_executor(self) -> Any:
        """The pure-Python executor for this pipeline, after the Python validator's checks; nodes a
        manifest describes are loaded into this interpreter now."""
        from ..errors import ManifestError
        from ..executor import PythonExecutor
        from .described import DescribedNode, LoadError

        ids, edges = self._validated()
        nodes, issues = [], []
        for i, node in enumerate(self._nodes):
            if isinstance(node, DescribedNode):
                try:
                    node = node.instance()
                except LoadError as e:
                    issues.append(f"nodes[{i}]: {e}")
            nodes.append(node)
        if issues:
            raise ManifestError(issues, origin=f"pipeline {self.name!r}")
        return PythonExecutor(nodes, ids, edges)

    def _fallback(self, reason: str, unexpected: bool) -> None:
        if unexpected:
            logger.warning(
                "Rust runtime cannot run pipeline %r: %s; falling back to the Python executor", self.name, reason
            )
        else:
            logger.info("running pipeline %r with the Python executor: %s", self.name, reason)

    def _prepare(self, use_rust: bool) -> tuple[Any, Any]:
        """Returns ``(rust plan, None)`` or ``(None, python executor)`` and records :attr:`last_run`.

        The decision is kept while nothing it depends on changes (the pipeline's structure and
        hints, ``use_rust``, the two environment variables, the runtime detection), so a run costs
        a few dictionary lookups here rather than a fresh selection."""
        environ = os.environ
        key = (
            use_rust,
            environ.get("REMOTEMEDIA_RUNTIME"),
            environ.get(INTERPRETER_ENV),
            _runtime._checked,
            _runtime._runtime,
            self._structure_key(),
        )
        cached = self._prepared
        if cached is not None and cached[0] == key:
            plan, executor, self.last_run = cached[1]
            return plan, executor
        plan, executor = self._decide(use_rust)
        self._prepared = (key, (plan, executor, self.last_run))
        return plan, executor

    def _decide(self, use_rust: bool) -> tuple[Any, Any]:
        """:meth:`_prepare`'s selection, made afresh."""
        ids = self.node_ids()
        mode = _runtime.runtime_mode()
        module, reason = self._select(use_rust, mode, ids)
        if module is not None:
            from ..errors import ManifestError

            try:
                plan = self._plan_rust(module)
            except ManifestError as e:
                pinned = [(i, hint) for i, hint in self._engine_hints(ids) if hint != "rust"]
                if pinned:
                    node_id, hint = pinned[0]
                    raise RuntimeSelectionError(
                        f"node `{node_id}` asks for {hint!r}, but the engine cannot plan pipeline {self.name!r}: {e}"
                    ) from e
                if mode == "rust" or not self._python_can_run():
                    raise
                self._fallback(str(e), unexpected=True)
                executor = self._python_executor()
                self.last_run = RunInfo("python", dict.fromkeys(ids, "python"), fallback_reason=str(e))
                return None, executor
            logger.debug("running pipeline %r with the Rust runtime", self.name)
            runtimes = dict(plan.node_runtimes)
            self.last_run = RunInfo("rust", runtimes)
            return plan, None
        executor = self._python_executor()
        if reason is not None and reason not in ("use_rust=False", "REMOTEMEDIA_RUNTIME=python"):
            self._fallback(reason, unexpected=False)
        self.last_run = RunInfo("python", dict.fromkeys(ids, "python"), fallback_reason=reason)
        return None, executor

    def _python_can_run(self) -> bool:
        """Whether the Python validator accepts the pipeline (asked only when the engine refused
        it, to tell a pipeline only the engine cannot run from one that is invalid)."""
        from ..errors import ManifestError

        try:
            self._validated()
        except ManifestError:
            return False
        return True

    async def run(self, input_data: Any = None, use_rust: bool = True) -> list[Any]:
        """Runs the pipeline over ``input_data`` and returns every output, in order.

        ``input_data`` is a list of items; any other value is one item; ``None`` is no input. An
        :class:`~remotemedia.audio_files.AudioReader` (``remotemedia.read_audio(path)``) is streamed
        in its chunks: on the engine the file is decoded and fed natively through a session's
        bounded input, so it is never in memory whole.
        Outputs are grouped by sink node (in the order the nodes were added), each sink's outputs in
        the order it produced them; zero outputs is ``[]``.

        With ``use_rust=True`` (the default) the Rust engine runs the pipeline when it is installed
        and can plan it; otherwise the Python executor does (see ``REMOTEMEDIA_RUNTIME``). A node's
        exception is never retried on the other runtime: it propagates. :attr:`last_run` tells which
        runtime ran.
        """
        from ..audio_files import AudioReader

        if isinstance(input_data, AudioReader):
            return await self._run_reader(input_data, use_rust)
        if input_data is None:
            items: list[Any] = []
        elif isinstance(input_data, list):
            items = input_data
        else:
            items = [input_data]
        plan, executor = self._prepare(use_rust)
        if plan is not None:
            native_only = all(r == "rust" for r in self.last_run.nodes.values())
            if native_only and plan.single_stage and len(items) * len(self._nodes) <= _BLOCKING_WORK:
                # A small fused batch takes microseconds: run it on this thread (GIL released)
                # rather than paying a hop to the engine's threads and back to the event loop.
                return plan.run_blocking(items)
            return await plan.run(items)
        return await executor.run(items)

    async def _run_reader(self, reader: Any, use_rust: bool) -> list[Any]:
        plan, executor = self._prepare(use_rust)
        if plan is None:
            return await executor.run(reader)
        if reader.native:
            return await plan.run_audio_file(reader._native)
        return await plan.run(list(reader))

    async def run_files(self, inputs: Any, **options: Any) -> list[dict[str, Any]]:
        """Runs the pipeline over many audio files in parallel: see
        :func:`remotemedia.audio_files.run_files` (the same options and results as
        ``remotemedia-runtime run --input DIR``)."""
        from ..audio_files import run_files

        return await run_files(self, inputs, **options)

    async def process(self, stream: AsyncIterable[Any], use_rust: bool = True) -> AsyncIterator[Any]:
        """Streams ``stream`` through the pipeline, yielding each output as soon as it is produced.

        On the engine, a pipeline that is one fused chain of synchronous nodes (native nodes and
        live custom nodes without ``timeout_ms``) runs on this thread, input by input, with no
        thread hop; any other runs as an engine session with bounded queues (backpressure).
        """
        plan, executor = self._prepare(use_rust)
        if plan is None:
            async for out in executor.stream(stream):
                yield out
            return
        inline = plan.start_inline()
        if inline is not None:
            try:
                async for item in stream:
                    for out in inline.push(item):
                        yield out
                for out in inline.finish():
                    yield out
            finally:
                inline.close()
            return
        session = plan.start()
        import asyncio

        # Inputs go in without a future while there is room (a future only to wait for room), and
        # outputs come out in batches: whatever is ready, or one wake-up for the next batch.
        async def feed() -> None:
            try:
                async for item in stream:
                    if not session.try_send(item):
                        await session.send(item)
            finally:
                session.close()

        feeder = asyncio.ensure_future(feed())
        try:
            while True:
                outputs = session.try_recv_many()
                if outputs == []:
                    outputs = await session.recv_many()
                if outputs is None:
                    break
                for out in outputs:
                    yield out
            await feeder
        finally:
            if not feeder.done():
                feeder.cancel()
                await asyncio.gather(feeder, return_exceptions=True)
            session.cancel()

    async def initialize(self) -> None:
        """Calls every node's ``initialize`` (the seeds' streaming API; ``run``/``process`` do it too)."""
        from .protocol import call_hook_async

        for node in self._nodes:
            await call_hook_async(node, "initialize")

    async def cleanup(self) -> None:
        """Calls every node's ``cleanup``."""
        from .protocol import call_hook_async

        for node in self._nodes:
            await call_hook_async(node, "cleanup")

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r} nodes={self.node_ids()}>"
