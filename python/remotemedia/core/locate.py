"""Where a custom node's class lives, so that another interpreter can load it: the manifest
fields (``module`` + ``class``, or ``source`` + ``class``) that :class:`~remotemedia.Pipeline`
writes for the engine and for :meth:`~remotemedia.Pipeline.serialize`."""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import RuntimeSelectionError
from .node import Node

__all__ = ["class_source", "importable_elsewhere", "python_location", "rebuild_location"]


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
