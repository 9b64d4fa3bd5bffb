"""The pure-Python executor: asyncio, bounded queues, and the engine's semantics.

- Every input goes to every root node; every output of a sink is a pipeline output.
- A node's ``process`` returns a value, ``None`` (filtered) or a (async) generator (several outputs);
  ``flush`` at end of stream works the same way, upstream nodes first.
- ``run`` returns outputs grouped by sink (sinks in pipeline order, each in the order it emitted);
  ``stream`` yields them as they are produced. A linear chain runs inline, one input at a time;
  other graphs run one task per node, connected by bounded queues (backpressure), fan-in merging in
  arrival order.
- Values follow the engine's model: tuples become lists, in inputs and outputs.
- The first exception stops the run and propagates with its own class; its message names the node.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import Any

from .. import _contract
from ..core.node import Node
from ..core.protocol import call_hook_async, outputs, outputs_as_made, outputs_async
from ..errors import ManifestError, NodeError, annotate

__all__ = ["PythonExecutor", "executor_for"]

_END = object()


async def _limited(node: Node, method: str, args: tuple[Any, ...], limit_ms: int) -> list[Any]:
    """Calls ``node.method(*args)`` within ``limit_ms``, as the engine does: the call runs on a
    thread of its own (a daemon, so an abandoned call never holds the process up) and is abandoned,
    not interrupted, once the limit passes; the run then fails with ``timed out after N ms``."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()

    def settle(result: list[Any] | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def call() -> None:
        try:
            result, error = outputs(getattr(node, method)(*args)), None
        except BaseException as e:
            result, error = None, e
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop closed while the abandoned call ran
            pass

    threading.Thread(target=call, name=f"remotemedia-timed-{method}", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(done), limit_ms / 1000)
    except asyncio.TimeoutError:
        raise NodeError(f"timed out after {limit_ms} ms") from None


#: How deep lists and maps may nest in one value: the engine's `MAX_NESTING`, from the contract.
MAX_NESTING = _contract.MAX_NESTING


class TooDeep(ValueError):
    """A value nests lists and maps deeper than :data:`MAX_NESTING`."""

    def __init__(self) -> None:
        super().__init__(f"the value nests lists and maps deeper than {MAX_NESTING} levels, the engine's limit")


def normalize(value: Any, depth: int = 0) -> Any:
    """The engine's view of a value: tuples become lists (recursively, inside lists and dicts);
    lists and maps nested deeper than :data:`MAX_NESTING` raise :class:`TooDeep`."""
    if isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING:
            raise TooDeep()
        return [normalize(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if depth >= MAX_NESTING:
            raise TooDeep()
        return {k: normalize(v, depth + 1) for k, v in value.items()}
    return value


def node_type(node: Any) -> str:
    """A node's type name: its ``node_type``, else its class name (a plain class)."""
    return getattr(node, "node_type", None) or type(node).__name__


async def _normalized(items: AsyncIterable[Any]) -> AsyncIterator[Any]:
    async for item in items:
        yield normalize(item)


def executor_for(pipeline: Any) -> PythonExecutor:
    """An executor for ``pipeline`` after the fallback's checks (the engine's rules), with fresh
    instances of the built-in nodes (their twins) and of the nodes a manifest describes: each run
    starts from a node's constructor, as on the engine. Live nodes (objects added to the pipeline)
    run as they are."""
    from ..core.described import DescribedNode, LoadError
    from ..nodes import NativeNode
    from .checks import validated
    from .nodes import body_for

    ids, edges = validated(pipeline)
    nodes, issues = [], []
    for i, node in enumerate(pipeline.nodes):
        if isinstance(node, NativeNode):
            node = body_for(node.node_type, node.values)
        elif isinstance(node, DescribedNode):
            try:
                node = node.fresh_instance()
            except LoadError as e:
                issues.append(f"nodes[{i}]: {e}")
        nodes.append(node)
    if issues:
        raise ManifestError(issues, origin=f"pipeline {pipeline.name!r}")
    return PythonExecutor(nodes, ids, edges, types=[node.node_type for node in pipeline.nodes])


class PythonExecutor:
    """Runs nodes (with ids and edges given by index) in this interpreter. A node is any object
    with ``process``; ``flush``, ``initialize`` and ``cleanup`` are optional (see
    :mod:`remotemedia.core.protocol`). ``types`` names each node in errors (default: the node's
    ``node_type``, else its class name)."""

    def __init__(
        self,
        nodes: Sequence[Any],
        ids: Sequence[str],
        edges: Sequence[tuple[int, int]],
        capacity: int = 64,
        types: Sequence[str] | None = None,
    ) -> None:
        self.nodes = list(nodes)
        self.ids = list(ids)
        self.types = list(types) if types is not None else [node_type(n) for n in self.nodes]
        self.capacity = max(1, capacity)
        n = len(self.nodes)
        self.down: list[list[int]] = [[] for _ in range(n)]
        self.up: list[list[int]] = [[] for _ in range(n)]
        for a, b in edges:
            self.down[a].append(b)
            self.up[b].append(a)
        self.roots = [i for i in range(n) if not self.up[i]]
        self.sinks = [i for i in range(n) if not self.down[i]]
        self.linear = all(self.down[i] == [i + 1] for i in range(n - 1)) and not self.down[n - 1]

    async def _call(self, i: int, method: str, *args: Any) -> list[Any]:
        node = self.nodes[i]
        try:
            if method == "flush" and getattr(node, "flush", None) is None:
                return []
            limit = getattr(node, "timeout_ms", None)
            if limit is not None:
                produced = await _limited(node, method, args, limit)
            else:
                produced = await outputs_async(getattr(node, method)(*args))
            try:
                return [normalize(v) for v in produced]
            except TooDeep as e:
                raise NodeError(str(e)) from None
        except Exception as e:
            raise annotate(e, self.ids[i], self.types[i]) from e.__cause__

    async def _produce(self, i: int, method: str, *args: Any) -> AsyncIterator[Any]:
        """The outputs of one call, as the node makes them: a generator's items one at a time, so
        that they go downstream (and out) before the node makes the next, as the engine delivers a
        streaming node's steps. A call with a time limit runs whole, on its own thread."""
        node = self.nodes[i]
        if method == "flush" and getattr(node, "flush", None) is None:
            return
        if getattr(node, "timeout_ms", None) is not None:
            for value in await self._call(i, method, *args):
                yield value
            return
        try:
            async for item in outputs_as_made(getattr(node, method)(*args)):
                try:
                    value = normalize(item)
                except TooDeep as e:
                    raise NodeError(str(e)) from None
                yield value
        except Exception as e:
            raise annotate(e, self.ids[i], self.types[i]) from e.__cause__

    async def _lifecycle(self, method: str) -> None:
        for i, node in enumerate(self.nodes):
            try:
                await call_hook_async(node, method)
            except Exception as e:
                raise annotate(e, self.ids[i], self.types[i]) from e.__cause__

    async def run(self, inputs: Iterable[Any]) -> list[Any]:
        """All outputs, grouped by sink in pipeline order."""

        async def source() -> AsyncIterator[Any]:
            for item in inputs:
                yield item

        per_sink: dict[int, list[Any]] = {s: [] for s in self.sinks}
        async for sink, value in self._events(source()):
            per_sink[sink].append(value)  # normalized by `_call`
        return [v for s in self.sinks for v in per_sink[s]]

    async def stream(self, inputs: AsyncIterable[Any]) -> AsyncIterator[Any]:
        """Outputs as they are produced."""
        async for _, value in self._events(inputs):
            yield value  # normalized by `_call`

    async def _events(self, inputs: AsyncIterable[Any]) -> AsyncIterator[tuple[int, Any]]:
        await self._lifecycle("initialize")
        inputs = _normalized(inputs)
        try:
            if self.linear:
                async for event in self._run_chain(inputs):
                    yield event
            else:
                async for event in self._run_graph(inputs):
                    yield event
        finally:
            await self._lifecycle("cleanup")

    async def _push(self, start: int, value: Any) -> AsyncIterator[Any]:
        """Pushes one value through the chain from node ``start``, depth first; yields what leaves
        it, as it leaves."""
        if start == len(self.nodes):
            yield value
            return
        async for out in self._produce(start, "process", value):
            async for final in self._push(start + 1, out):
                yield final

    async def _run_chain(self, inputs: AsyncIterable[Any]) -> AsyncIterator[tuple[int, Any]]:
        sink = len(self.nodes) - 1
        async for item in inputs:
            async for out in self._push(0, item):
                yield sink, out
        for i in range(len(self.nodes)):
            async for flushed in self._produce(i, "flush"):
                async for out in self._push(i + 1, flushed):
                    yield sink, out

    async def _run_graph(self, inputs: AsyncIterable[Any]) -> AsyncIterator[tuple[int, Any]]:
        queues = [asyncio.Queue(self.capacity) for _ in self.nodes]
        events: asyncio.Queue = asyncio.Queue(self.capacity)

        async def deliver(i: int, values: list[Any]) -> None:
            for v in values:
                for d in self.down[i]:
                    await queues[d].put(v)
                if not self.down[i]:
                    await events.put((i, v))

        async def node_task(i: int) -> None:
            ends, expected = 0, max(1, len(self.up[i]))
            while True:
                item = await queues[i].get()
                if item is _END:
                    ends += 1
                    if ends == expected:
                        break
                    continue
                async for value in self._produce(i, "process", item):
                    await deliver(i, [value])
            async for value in self._produce(i, "flush"):
                await deliver(i, [value])
            for d in self.down[i]:
                await queues[d].put(_END)

        async def feed() -> None:
            async for item in inputs:
                for r in self.roots:
                    await queues[r].put(item)
            for r in self.roots:
                await queues[r].put(_END)

        tasks = [asyncio.ensure_future(feed())] + [asyncio.ensure_future(node_task(i)) for i in range(len(self.nodes))]

        async def watch() -> None:
            try:
                await asyncio.gather(*tasks)
            finally:
                await events.put(_END)

        watcher = asyncio.ensure_future(watch())
        try:
            while True:
                event = await events.get()
                if event is _END:
                    break
                yield event
            await watcher  # re-raises the first node error
        finally:
            for t in [*tasks, watcher]:
                t.cancel()
            await asyncio.gather(*tasks, watcher, return_exceptions=True)
