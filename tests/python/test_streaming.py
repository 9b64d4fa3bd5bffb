"""`Pipeline.process()` on the engine: same outputs as the pure-Python executor, no per-item thread
crossing for fused pipelines, bounded memory with a slow consumer, and prompt cancellation."""

from __future__ import annotations

import asyncio

import pytest

from conftest import HAVE_EXTENSION
from remotemedia import Node, Pipeline
from remotemedia.errors import NodeError
from remotemedia.nodes import CalculatorNode, PassThroughNode

needs_engine = pytest.mark.skipif(not HAVE_EXTENSION, reason="needs the remotemedia_runtime extension")


def chain() -> Pipeline:
    return Pipeline("chain", [PassThroughNode(), CalculatorNode(operation="add", operand=1), PassThroughNode()])


class Counting(Node):
    """Counts its calls and its cleanup (a live node, in this interpreter)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0
        self.cleaned = 0

    def process(self, x):
        self.calls += 1
        return x

    def cleanup(self):
        self.cleaned += 1


class Isolated(Node):
    """Forced into its own RustPython interpreter: the pipeline is not one fused chain."""

    def process(self, x):
        return x


async def numbers(n: int, produced: list[int] | None = None):
    for i in range(n):
        if produced is not None:
            produced.append(i)
        yield i


async def endless():
    """An input stream that never ends (it yields to the event loop between items)."""
    i = 0
    while True:
        yield i
        i += 1
        await asyncio.sleep(0)


async def collect(pipeline: Pipeline, n: int, use_rust: bool = True) -> list:
    return [out async for out in pipeline.process(numbers(n), use_rust=use_rust)]


def test_streaming_gives_the_pure_python_outputs(use_rust):
    pipeline = chain()
    assert asyncio.run(collect(pipeline, 1000, use_rust)) == [i + 1 for i in range(1000)]
    assert pipeline.last_run.runtime == ("rust" if use_rust and HAVE_EXTENSION else "python")


@needs_engine
def test_a_fused_pipeline_streams_without_a_thread_crossing_per_item():
    import remotemedia_runtime

    pipeline = Pipeline("live", [PassThroughNode(), Counting(name="count"), CalculatorNode(operation="add", operand=1)])
    before = remotemedia_runtime._crossings()
    assert asyncio.run(collect(pipeline, 2000)) == [i + 1 for i in range(2000)]
    assert remotemedia_runtime._crossings() - before == 0
    assert pipeline.last_run.nodes == {"PassThroughNode_0": "rust", "count": "cpython", "CalculatorNode_2": "rust"}


@needs_engine
def test_a_session_streams_in_batches_not_a_crossing_per_item():
    import remotemedia_runtime

    n = 2000
    pipeline = Pipeline(
        "session",
        [
            PassThroughNode(),
            Isolated(name="isolated", runtime_hint="rustpython"),
            CalculatorNode(operation="add", operand=1),
        ],
    )
    assert asyncio.run(collect(pipeline, 10)) == list(range(1, 11))  # planned, interpreter started
    before = remotemedia_runtime._crossings()
    assert asyncio.run(collect(pipeline, n)) == [i + 1 for i in range(n)]
    crossings = remotemedia_runtime._crossings() - before
    # One wake-up per batch of outputs (and per wait for room), never one per item each way.
    assert crossings <= n // 8, crossings


@needs_engine
def test_streaming_errors_keep_their_class_and_node_and_stop_the_stream():
    class Picky(Node):
        def process(self, x):
            if x == 3:
                raise ValueError("three")
            return x

    pipeline = Pipeline("p", [Picky(name="picky"), CalculatorNode(operation="divide", operand=1)])
    seen = []

    async def main():
        async for out in pipeline.process(numbers(10)):
            seen.append(out)

    with pytest.raises(ValueError, match=r"^node `picky` \(`Picky`\) failed: three$"):
        asyncio.run(main())
    assert seen == [0, 1, 2]
    native = Pipeline("n", [CalculatorNode(operation="divide", operand=0, name="div")])
    with pytest.raises(NodeError) as info:
        asyncio.run(collect(native, 3))
    assert info.value.node_id == "div"


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "session"])
def test_a_slow_consumer_keeps_the_producer_bounded(fused, use_rust):
    nodes = [PassThroughNode(), CalculatorNode(operation="add", operand=1)]
    if not fused:
        nodes.insert(1, Isolated(name="isolated", runtime_hint="rustpython" if use_rust and HAVE_EXTENSION else "auto"))
    pipeline = Pipeline("bp", nodes)
    produced: list[int] = []
    ahead = []

    async def main():
        consumed = 0
        async for _ in pipeline.process(numbers(5000, produced), use_rust=use_rust):
            consumed += 1
            ahead.append(len(produced) - consumed)
            if consumed % 100 == 0:
                await asyncio.sleep(0.001)  # a slow consumer
        return consumed

    assert asyncio.run(main()) == 5000
    # Items taken from the producer but not yet consumed stay within the queues' bounds (64 per
    # stage), never the whole stream.
    assert max(ahead) <= (2 if fused and use_rust and HAVE_EXTENSION else 600), max(ahead)


@pytest.mark.parametrize(
    "fused", [pytest.param(True, id="fused"), pytest.param(False, id="session", marks=needs_engine)]
)
def test_leaving_the_loop_stops_the_work(fused):
    counting = Counting(name="count")
    nodes = [counting] if fused else [counting, Isolated(name="isolated", runtime_hint="rustpython")]
    pipeline = Pipeline("stop", nodes)

    async def main():
        async for out in pipeline.process(endless()):
            if out == 50:
                break
        await asyncio.sleep(0.05)  # work already in flight may finish
        settled = counting.calls
        await asyncio.sleep(0.2)
        return settled, counting.calls

    settled, later = asyncio.run(main())
    # Promptly: no further than the inputs already queued when the consumer left, then nothing.
    assert 51 <= settled <= (51 if fused else 51 + 200), settled
    assert later == settled
    assert counting.cleaned == 1


@needs_engine
def test_cancelling_the_task_stops_the_work():
    counting = Counting(name="count")
    pipeline = Pipeline("cancel", [counting, CalculatorNode(operation="add", operand=0)])

    async def consume():
        async for _ in pipeline.process(endless()):
            pass

    async def main():
        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        calls = counting.calls
        await asyncio.sleep(0.2)
        return calls, counting.calls

    at_cancel, later = asyncio.run(main())
    assert at_cancel > 0 and later == at_cancel
    assert counting.cleaned == 1
