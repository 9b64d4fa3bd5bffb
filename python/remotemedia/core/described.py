"""Python nodes a manifest describes (``module`` | ``file`` | ``source`` + ``class``).

Such a node is kept as its description. The engine loads it from there (in RustPython first,
under ``auto``); this interpreter imports and instantiates it only when the pure-Python executor
runs it, so its module-level code never runs twice.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

from .node import Node

__all__ = ["DescribedNode", "LoadError", "load_class_instance"]


class LoadError(Exception):
    """A described class cannot be loaded; the message is the engine's wording, without the node's path."""


def inline_module_name(node_id: str) -> str:
    """The module name inline source runs as (the engine's ``PythonNodeSpec::inline_module_name``)."""
    return "remotemedia_node_" + "".join(c if c.isalnum() else "_" for c in node_id)


def load_class_instance(node_id: str, location: dict[str, Any], params: dict[str, Any], base_dir: Path | None) -> Any:
    """Imports the described class into this interpreter and instantiates it with ``params``."""
    cls_name = location["class"]
    if "module" in location:
        where = f"module `{location['module']}`"
        if base_dir is not None and str(base_dir) not in sys.path:
            sys.path.insert(0, str(base_dir))
    elif "file" in location:
        file = Path(location["file"])
        file = base_dir / file if base_dir is not None and not file.is_absolute() else file
        where = f"file `{file}`"
        if not file.is_file():
            raise LoadError(f"cannot read `{file}`: no such file")
    else:
        where = "inline source"
    try:
        if "module" in location:
            module = importlib.import_module(location["module"])
        elif "file" in location:
            spec = importlib.util.spec_from_file_location(file.stem, file)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            sys.modules[file.stem] = module
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            name = inline_module_name(node_id)
            module = types.ModuleType(name)
            sys.modules[name] = module
            exec(compile(location["source"], f"<{name}>", "exec"), module.__dict__)
        return getattr(module, cls_name)(**params)
    except Exception as e:
        raise LoadError(f"cannot load class `{cls_name}` from {where}: python: {type(e).__name__}: {e}") from e


class DescribedNode(Node):
    """A Python node known by its manifest description; see the module docs."""

    def __init__(
        self,
        node_id: str,
        node_type: str,
        location: dict[str, Any],
        params: dict[str, Any] | None = None,
        runtime_hint: str = "auto",
        timeout_ms: int | None = None,
        base_dir: Path | None = None,
        instance: Any = None,
    ) -> None:
        super().__init__(name=node_id, runtime_hint=runtime_hint, timeout_ms=timeout_ms)
        self.node_type = node_type  # type: ignore[misc]
        self._init_kwargs = dict(params or {})
        self._base_dir = base_dir
        self._instance = instance
        self._handed_out = False
        location = dict(location)
        if "file" in location:
            file = Path(location["file"])
            location["file"] = str((base_dir / file if base_dir is not None else file).resolve())
        #: How the engine loads it, and what serializing the pipeline writes back.
        self._manifest_location = location

    @property
    def loaded(self) -> bool:
        """Whether the class has been loaded into this interpreter."""
        return self._instance is not None

    def instance(self) -> Node:
        """The node object in this interpreter, loaded on first use (raises :class:`LoadError`)."""
        if self._instance is None:
            self._instance = load_class_instance(self.name or "", self._manifest_location, self.params, self._base_dir)
            self._label(self._instance)
        return self._instance

    def fresh_instance(self) -> Node:
        """A node object from the class's constructor, for one run (raises :class:`LoadError`):
        the loaded instance the first time, a new one after that. The class's module is loaded
        once, as the engine does."""
        first = self.instance()
        if not self._handed_out:
            self._handed_out = True
            return first
        cls = type(first)
        try:
            instance = cls(**self.params)
        except Exception as e:
            raise LoadError(f"cannot create a `{cls.__qualname__}`: python: {type(e).__name__}: {e}") from e
        self._label(instance)
        return instance

    def _label(self, instance: Any) -> None:
        labels = {"name": self.name, "runtime_hint": self.runtime_hint, "timeout_ms": self.timeout_ms}
        for attribute, value in labels.items():
            try:
                setattr(instance, attribute, value)
            except AttributeError:  # a class with __slots__ or read-only properties
                pass

    def __repr__(self) -> str:
        return f"<DescribedNode {self.name!r} class={self._manifest_location.get('class')!r}>"
