"""The one place that chooses what runs a :class:`~remotemedia.Pipeline`: :func:`choose` returns
a :class:`Runner`, the engine's (:class:`EngineRunner`, the ``remotemedia_runtime`` extension) or
the pure-Python fallback's (:class:`FallbackRunner`), and keeps the choice in one cache per
pipeline while nothing it depends on changes.

The rules, in order:

- ``runtime_hint="rust"`` on a node with no native implementation is a :class:`ManifestError`
  (the engine's and the manifest validator's rule).
- ``use_rust=False`` or ``REMOTEMEDIA_RUNTIME=python`` runs the fallback, unless a node pins the
  engine (``rust`` on a native node, ``rustpython``/``cpython`` or :data:`INTERPRETER_ENV` on a
  custom node): then :class:`RuntimeSelectionError`.
- Without the extension: the fallback, or :class:`RuntimeSelectionError` when
  ``REMOTEMEDIA_RUNTIME=rust`` or a node pins the engine.
- ``runtime_hint="python"`` on any node runs the fallback (an error under
  ``REMOTEMEDIA_RUNTIME=rust``).
- Otherwise the engine plans the pipeline. When it refuses, a pinned node turns that into
  :class:`RuntimeSelectionError`; ``REMOTEMEDIA_RUNTIME=rust`` or a pipeline the fallback refuses
  too raises the engine's :class:`ManifestError`; anything else falls back, with a warning.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from . import _contract
from . import runtime as _runtime
from .errors import ManifestError, RuntimeSelectionError

if TYPE_CHECKING:
    from .core.node import Node
    from .core.pipeline import Pipeline

__all__ = ["INTERPRETER_ENV", "EngineRunner", "FallbackRunner", "RunInfo", "Runner", "choose", "interpreter_hint"]

logger = logging.getLogger("remotemedia")

#: Overrides every Python node's ``runtime_hint`` in this process (``auto``, ``rustpython`` or
#: ``cpython``); read by the engine too.
INTERPRETER_ENV = _contract.INTERPRETER_ENV

#: Largest batch (inputs x nodes) that a single-stage engine plan runs on the calling thread: about
#: a millisecond of work at most, less than the cost of a thread hop for smaller runs.
_BLOCKING_WORK = 20_000

_ASKED_AWAY = ("use_rust=False", "REMOTEMEDIA_RUNTIME=python")


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


def interpreter_hint(node: Node) -> str:
    """The hint that decides where a custom node runs: :data:`INTERPRETER_ENV` when set, else the
    node's own ``runtime_hint``."""
    forced = os.environ.get(INTERPRETER_ENV, "").strip()
    if forced and forced not in ("auto", "rustpython", "cpython"):
        raise RuntimeSelectionError(
            f'{INTERPRETER_ENV}="{forced}" is not valid; expected "auto", "rustpython" or "cpython"'
        )
    return forced or node.runtime_hint


def engine_for_manifest(doc: Any) -> Any:
    """The engine module when it will run a pipeline built from ``doc`` (installed, not turned off
    by ``REMOTEMEDIA_RUNTIME=python``, and no node asks for ``runtime_hint: python``), else ``None``."""
    if _runtime.runtime_mode() == "python" or not _runtime.rust_runtime_available(_runtime.runtime_mode()):
        return None
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    if isinstance(nodes, list) and any(isinstance(n, dict) and n.get("runtime_hint") == "python" for n in nodes):
        return None
    return _runtime._runtime


class EngineRunner:
    """Runs a pipeline the engine has planned."""

    def __init__(self, plan: Any, info: RunInfo, node_count: int) -> None:
        self.plan = plan
        self.info = info
        self._native_only = all(r == "rust" for r in info.nodes.values())
        self._node_count = node_count

    async def run(self, items: list[Any]) -> list[Any]:
        plan = self.plan
        if self._native_only and plan.single_stage and len(items) * self._node_count <= _BLOCKING_WORK:
            # A small fused batch takes microseconds: run it on this thread (GIL released) rather
            # than paying a hop to the engine's threads and back to the event loop.
            return plan.run_blocking(items)
        return await plan.run(items)

    async def run_reader(self, reader: Any) -> list[Any]:
        if reader.native:
            return await self.plan.run_audio_file(reader._native)
        return await self.plan.run(list(reader))

    async def stream(self, stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
        """A fused chain of synchronous nodes runs on this thread, input by input; any other plan
        runs as an engine session with bounded queues (backpressure)."""
        inline = self.plan.start_inline()
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
        session = self.plan.start()

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


class FallbackRunner:
    """Runs a pipeline on the pure-Python executor, with fresh instances of the nodes a manifest
    describes on every run (as the engine does)."""

    #: No engine plan.
    plan = None

    def __init__(self, pipeline: Pipeline, info: RunInfo) -> None:
        from ._fallback.executor import executor_for

        # Checks the pipeline and loads its described nodes now; this executor runs first.
        self._next: Any = executor_for(pipeline)
        self._pipeline = pipeline
        self.info = info

    def _executor(self) -> Any:
        from ._fallback.executor import executor_for

        executor, self._next = self._next, None
        return executor if executor is not None else executor_for(self._pipeline)

    async def run(self, items: list[Any]) -> list[Any]:
        return await self._executor().run(items)

    async def run_reader(self, reader: Any) -> list[Any]:
        return await self._executor().run(reader)

    async def stream(self, stream: AsyncIterable[Any]) -> AsyncIterator[Any]:
        async for out in self._executor().stream(stream):
            yield out


#: What `choose` returns (``Union``: a runtime ``|`` of classes needs Python 3.10; we support 3.9).
Runner = Union[EngineRunner, FallbackRunner]


def choose(pipeline: Pipeline, use_rust: bool) -> Runner:
    """The runner for ``pipeline``, kept while its structure and hints, ``use_rust``, the two
    environment variables and the runtime detection stay the same (a run then costs a few
    dictionary lookups here)."""
    environ = os.environ
    key = (
        use_rust,
        environ.get("REMOTEMEDIA_RUNTIME"),
        environ.get(INTERPRETER_ENV),
        _runtime._checked,
        _runtime._runtime,
        pipeline._structure_key(),
    )
    cached = pipeline._runner
    if cached is not None and cached[0] == key:
        return cached[1]
    runner = _choose(pipeline, use_rust)
    pipeline._runner = (key, runner)
    return runner


def _choose(pipeline: Pipeline, use_rust: bool) -> Runner:
    from .nodes import NativeNode

    ids = pipeline.node_ids()
    nodes = pipeline.nodes
    misplaced = [
        _contract.rust_on_python_node(i)
        for i, node in enumerate(nodes)
        if node.runtime_hint == "rust" and not isinstance(node, NativeNode)
    ]
    if misplaced:
        raise ManifestError(misplaced, origin=f"pipeline {pipeline.name!r}")
    pinned = [
        (node_id, hint)
        for node_id, node in zip(ids, nodes)
        if (hint := node.runtime_hint if isinstance(node, NativeNode) else interpreter_hint(node))
        in ("rust", "rustpython", "cpython")
    ]
    mode = _runtime.runtime_mode()
    if not use_rust or mode == "python":
        why = _ASKED_AWAY[0] if not use_rust else _ASKED_AWAY[1]
        if pinned:
            node_id, hint = pinned[0]
            raise RuntimeSelectionError(
                f"node `{node_id}` has runtime_hint={hint!r} but the Rust runtime is disabled ({why})"
            )
        return _fallback(pipeline, why)
    if not _runtime.rust_runtime_available(mode):
        reason = f"the Rust runtime is not installed ({_runtime.unavailable_reason()})"
        if mode == "rust" or pinned:
            raise RuntimeSelectionError(f"{reason}; {_runtime.INSTALL_HINT}")
        return _fallback(pipeline, reason)
    python_only = [
        f"node `{i}` (`{n.node_type}`) asks for runtime_hint='python'"
        for i, n in zip(ids, nodes)
        if n.runtime_hint == "python"
    ]
    if python_only:
        reason = "; ".join(python_only)
        if mode == "rust":
            raise RuntimeSelectionError(
                f"REMOTEMEDIA_RUNTIME=rust, but the Rust engine cannot run this pipeline: {reason}"
            )
        return _fallback(pipeline, reason)
    module = _runtime._runtime
    try:
        plan = _plan(pipeline, module)
    except ManifestError as e:
        interpreters = [(i, hint) for i, hint in pinned if hint != "rust"]
        if interpreters:
            node_id, hint = interpreters[0]
            raise RuntimeSelectionError(
                f"node `{node_id}` asks for {hint!r}, but the engine cannot plan pipeline {pipeline.name!r}: {e}"
            ) from e
        if mode == "rust" or not _fallback_accepts(pipeline):
            raise
        logger.warning("Rust runtime cannot run pipeline %r: %s; falling back to the Python executor", pipeline.name, e)
        return FallbackRunner(pipeline, RunInfo("python", dict.fromkeys(ids, "python"), fallback_reason=str(e)))
    logger.debug("running pipeline %r with the Rust runtime", pipeline.name)
    return EngineRunner(plan, RunInfo("rust", dict(plan.node_runtimes)), len(nodes))


def _fallback(pipeline: Pipeline, reason: str) -> FallbackRunner:
    runner = FallbackRunner(
        pipeline, RunInfo("python", dict.fromkeys(pipeline.node_ids(), "python"), fallback_reason=reason)
    )
    if reason not in _ASKED_AWAY:
        logger.info("running pipeline %r with the Python executor: %s", pipeline.name, reason)
    return runner


def _fallback_accepts(pipeline: Pipeline) -> bool:
    """Whether the fallback's checks accept the pipeline (asked only when the engine refused it,
    to tell a pipeline only the engine cannot run from one that is invalid)."""
    from ._fallback.checks import validated

    try:
        validated(pipeline)
    except ManifestError:
        return False
    return True


def _plan(pipeline: Pipeline, module: Any) -> Any:
    """The engine's plan of the whole pipeline, made before any input is consumed. The engine
    checks it: its problems come as :class:`ManifestError`, in its words. A plan the engine made
    while loading the pipeline's manifest is used once, if the pipeline has not changed since."""
    planned, pipeline._planned = pipeline._planned, None
    if planned is not None and planned[0] == pipeline._structure_key() and planned[1] is module:
        return planned[2]
    live = pipeline._live_nodes()
    doc = pipeline._manifest(live=set(live))
    del doc["metadata"]["created_at"]
    return module.plan(json.dumps(doc), live or None, origin=f"pipeline {pipeline.name!r}")
