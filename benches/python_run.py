"""Pipeline.run() on the Rust engine vs the pure-Python executor.

Chains of 3, 20 and 50 nodes (PassThroughNode, AddNode(1), MultiplyNode(1), repeating) over 5,
1 000 and 100 000 integers, plus the fixed overhead of one run() call (one node, no input). Every
figure is the median of repeated runs inside one event loop (so asyncio.run's own start-up is not
counted). Prints a markdown table for benches/RESULTS.md.

    make bench-python        # or: .venv/bin/python benches/python_run.py
"""

from __future__ import annotations

import asyncio
import platform
import sys
import warnings

from timing import fmt, median_run_seconds

from remotemedia import Pipeline, is_rust_runtime_available
from remotemedia.nodes import AddNode, MultiplyNode, PassThroughNode

NODE_COUNTS = (3, 20, 50)
ITEM_COUNTS = (5, 1_000, 100_000)


def make_chain(n: int) -> Pipeline:
    kinds = (PassThroughNode, lambda: AddNode(addend=1), lambda: MultiplyNode(factor=1))
    return Pipeline(f"chain{n}", [kinds[i % 3]() for i in range(n)])


async def median_seconds(pipeline: Pipeline, items: list[int], use_rust: bool, budget: float = 1.5) -> float:
    return await median_run_seconds(pipeline, items, use_rust, budget)


async def main() -> None:
    if not is_rust_runtime_available():
        sys.exit("the Rust runtime is not installed: run `make extension` first")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print()
    print("| nodes | items | Rust engine | Python executor | speed-up | Rust faster |")
    print("|---|---|---|---|---|---|")
    overhead = Pipeline("overhead", [PassThroughNode()])
    r = await median_seconds(overhead, [], True)
    p = await median_seconds(overhead, [], False)
    print(f"| 1 | 0 (run() overhead) | {fmt(r)} | {fmt(p)} | {p / r:.1f}x | {'yes' if r < p else '**no**'} |")
    for n in NODE_COUNTS:
        pipeline = make_chain(n)
        for count in ITEM_COUNTS:
            items = list(range(count))
            r = await median_seconds(pipeline, items, True)
            p = await median_seconds(pipeline, items, False)
            print(f"| {n} | {count:,} | {fmt(r)} | {fmt(p)} | {p / r:.1f}x | {'yes' if r < p else '**no**'} |")
            sys.stdout.flush()


if __name__ == "__main__":
    warnings.simplefilter("error")
    asyncio.run(main())
