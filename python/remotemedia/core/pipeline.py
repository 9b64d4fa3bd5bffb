"""``Pipeline``: build, serialize, and run a pipeline on the Rust engine or the Python executor."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any

from .. import _backend
from .._backend import RunInfo, interpreter_hint
from .locate import python_location, rebuild_location
from .node import Node

__all__ = ["Pipeline", "RunInfo"]

logger = logging.getLogger("remotemedia")


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
        # The runner `_backend.choose` picked, and what it depends on; an engine plan made while
        # loading a manifest, for the first run.
        self._runner: tuple[Any, Any] | None = None
        self._planned: tuple[Any, Any, Any] | None = None
        # Bumped by every structural change; keys the cached validation and engine plan.
        self._version = 0
        # The fallback's checks of ids and edges, with the version they checked.
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
        from .from_manifest import build

        return build(cls, source)

    def _structure_key(self) -> tuple[Any, ...]:
        return (self._version, *(n.runtime_hint for n in self._nodes), *(n.name for n in self._nodes))

    # -- running ----------------------------------------------------------------------------

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

        runner = self._choose(use_rust)
        if isinstance(input_data, AudioReader):
            return await runner.run_reader(input_data)
        if input_data is None:
            return await runner.run([])
        return await runner.run(input_data if isinstance(input_data, list) else [input_data])

    def _choose(self, use_rust: bool) -> Any:
        runner = _backend.choose(self, use_rust)
        self.last_run = runner.info
        return runner

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
        async for out in self._choose(use_rust).stream(stream):
            yield out

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
