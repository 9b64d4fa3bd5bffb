"""Custom Python nodes from Pipeline.run(): RustPython vs CPython inside the engine vs the
pure-Python executor.

1. A 3-node Python chain (add 1, double, keep multiples of 4) over 10 000 integers, run by
   ``Pipeline.run()`` three ways: each node in its own RustPython VM (``runtime_hint="rustpython"``),
   the live node objects on this CPython driven by the engine (``auto``), and the pure-Python
   executor (``use_rust=False``). Median of repeated runs.
2. Parallel branches: two CPU-bound pure-Python nodes fed from one pass-through, 4 items each,
   RustPython vs CPython (live objects, which share this process's GIL) vs the pure-Python executor.
3. Latency under GIL pressure: while a thread of this process spins in pure Python, items go one at
   a time through a pipeline with one trivial Python node, on RustPython vs on CPython: p50/p99 of
   the time the engine measures inside the node's call, and of the end-to-end latency seen from
   Python through ``Pipeline.process()`` (which needs the GIL itself to send and receive).

Prints markdown tables for benches/RESULTS.md.

    make bench-python        # or: .venv/bin/python benches/python_interpreters.py
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator

from timing import fmt, median_run_seconds

from remotemedia import Node, Pipeline, is_rust_runtime_available
from remotemedia.nodes import PassThroughNode


class Inc(Node):
    def process(self, x):
        return x + 1


class Double(Node):
    def process(self, x):
        return x * 2


class Evens(Node):
    def process(self, x):
        return x if x % 4 == 0 else None


class Busy(Node):
    def process(self, n):
        total = 0
        for i in range(n):
            total += i * i % 7
        return total


class Echo(Node):
    def process(self, x):
        return x


async def median_seconds(make, items, use_rust: bool, budget: float = 3.0) -> tuple[float, dict[str, str]]:
    pipeline = make()
    seconds = await median_run_seconds(pipeline, items, use_rust, budget, min_runs=5, max_runs=200)
    return seconds, pipeline.last_run.nodes


WAYS = (
    ("RustPython VMs", "rustpython", True),
    ("CPython (live objects)", "auto", True),
    ("pure-Python executor", "auto", False),
)


async def chain_table() -> None:
    items = list(range(10_000))
    print("| 3-node Python chain, 10 000 items | median per run | per item | ran on |")
    print("|---|---|---|---|")
    for label, hint, use_rust in WAYS:

        def make(hint=hint):
            return Pipeline("chain", [Inc(runtime_hint=hint), Double(runtime_hint=hint), Evens(runtime_hint=hint)])

        t, nodes = await median_seconds(make, items, use_rust)
        print(f"| {label} | {fmt(t)} | {fmt(t / len(items))} | {', '.join(sorted(set(nodes.values())))} |")


async def parallel_table() -> None:
    work = [300_000] * 4
    print("| two CPU-bound nodes on parallel branches, 4 items | median per run | ran on |")
    print("|---|---|---|")
    one = None
    for label, hint, use_rust in WAYS:

        def make(hint=hint):
            p = Pipeline(
                "par",
                [
                    PassThroughNode(name="src"),
                    Busy(name="left", runtime_hint=hint),
                    Busy(name="right", runtime_hint=hint),
                ],
            )
            p.connect("src", "left").connect("src", "right")
            return p

        t, nodes = await median_seconds(make, work, use_rust, budget=5.0)
        print(f"| {label} | {fmt(t)} | {nodes['left']} |")
    for label, hint in (("one branch only, RustPython", "rustpython"), ("one branch only, CPython", "auto")):
        one, _ = await median_seconds(
            lambda hint=hint: Pipeline("one", [Busy(runtime_hint=hint)]), work, True, budget=5.0
        )
        print(f"| {label} | {fmt(one)} | |")


def spin(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(1000):
            x += i


async def latencies(hint: str, count: int = 400) -> tuple[list[float], list[float]]:
    """Per item, one at a time: the end-to-end latency this process observes through
    ``Pipeline.process()``, and the time the engine measured inside the node's call (for CPython
    that includes waiting for the GIL; for RustPython, the hand-off to its interpreter thread)."""
    pipeline = Pipeline("lat", [Echo(name="echo", runtime_hint=hint)])
    sent: dict[int, float] = {}
    end_to_end: list[float] = []
    ready = asyncio.Event()

    async def source() -> AsyncIterator[int]:
        for i in range(count):
            ready.clear()
            sent[i] = time.perf_counter()
            yield i
            await ready.wait()  # one item in flight at a time

    async for out in pipeline.process(source()):
        end_to_end.append(time.perf_counter() - sent[out])
        ready.set()
    assert pipeline.last_run.nodes == {"echo": "rustpython" if hint == "rustpython" else "cpython"}
    plan = pipeline._choose(True).plan  # the engine plan Pipeline.run() uses
    in_node = []
    for i in range(count):
        _, metrics = await plan.run_with_metrics([i])
        in_node.append(metrics["echo"]["total_s"])
    return end_to_end[20:], in_node[20:]  # skip warm-up


def quantile(values: list[float], p: int) -> str:
    return fmt(statistics.quantiles(values, n=100)[p - 1])


async def gil_table() -> None:
    rows = []
    for label, hint in (("RustPython", "rustpython"), ("CPython (live object)", "auto")):
        idle = await latencies(hint)
        stop = threading.Event()
        spinner = threading.Thread(target=spin, args=(stop,), daemon=True)
        spinner.start()
        try:
            busy = await latencies(hint)
        finally:
            stop.set()
            spinner.join()
        rows.append((label, idle, busy))
    for kind, title in (
        (1, "time inside the Python node, measured by the engine"),
        (0, "end to end, seen from Python"),
    ):
        print(f"| {title} | p50 idle | p99 idle | p50 under GIL pressure | p99 under GIL pressure |")
        print("|---|---|---|---|---|")
        for label, idle, busy in rows:
            cells = [
                quantile(idle[kind], 50),
                quantile(idle[kind], 99),
                quantile(busy[kind], 50),
                quantile(busy[kind], 99),
            ]
            print(f"| {label} | {' | '.join(cells)} |")
        print()


async def main() -> None:
    if not is_rust_runtime_available():
        sys.exit("the Rust runtime is not installed: run `make extension` first")
    machine = platform.processor() or platform.machine()
    switch_ms = sys.getswitchinterval() * 1e3
    print(f"machine: {machine}, Python {platform.python_version()}, GIL switch interval {switch_ms:.0f} ms")
    print()
    await chain_table()
    print()
    await parallel_table()
    print()
    await gil_table()


if __name__ == "__main__":
    asyncio.run(main())
