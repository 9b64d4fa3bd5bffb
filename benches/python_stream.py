"""`Pipeline.process()` and `run()`: the Rust engine vs the pure-Python executor, side by side in one
process (issue 11's goals).

- throughput: 3 native nodes (PassThroughNode -> CalculatorNode(add 1) -> PassThroughNode) fed by
  an async generator, 5,000 items; and the same with a live custom `Node` in the middle;
- one item at a time: each item is awaited out before the next goes in (p50 / p99 latency);
- 1,000 concurrent sessions in one event loop, each fed 1 s of 16 kHz audio in 10 ms chunks through
  `VADNode`: aggregate real-time factor;
- `run()` on the seeds' 3 nodes x 5 items.

Every figure is a median of repeats; the machine is noisy, so compare the two columns of one run.

    make bench-python-stream     # or: .venv/bin/python benches/python_stream.py
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import time
import warnings

import numpy as np
from timing import fmt, median_run_seconds

from remotemedia import Node, Pipeline, is_rust_runtime_available
from remotemedia.audio import Audio
from remotemedia.nodes import CalculatorNode, PassThroughNode, VADNode

ITEMS = 5_000
LATENCY_ITEMS = 2_000


class AddOne(Node):
    def process(self, data):
        return data + 1


def native_chain() -> Pipeline:
    return Pipeline("chain", [PassThroughNode(), CalculatorNode(operation="add", operand=1), PassThroughNode()])


def live_chain() -> Pipeline:
    return Pipeline("live", [PassThroughNode(), AddOne(name="live"), PassThroughNode()])


def session_chain(use_rust: bool) -> Pipeline:
    """The custom node in its own RustPython interpreter: not one fused chain, so an engine session."""
    hint = "rustpython" if use_rust else "auto"
    return Pipeline("session", [PassThroughNode(), AddOne(name="isolated", runtime_hint=hint), PassThroughNode()])


async def numbers(n: int):
    for i in range(n):
        yield i


async def per_item_seconds(pipeline: Pipeline, use_rust: bool, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = 0
        async for _ in pipeline.process(numbers(ITEMS), use_rust=use_rust):
            count += 1
        times.append((time.perf_counter() - t0) / ITEMS)
        assert count == ITEMS
    return statistics.median(times)


async def one_at_a_time(pipeline: Pipeline, use_rust: bool) -> tuple[float, float]:
    """p50 and p99 of the time from handing one item in to getting its output."""
    inbox: asyncio.Queue[int] = asyncio.Queue()

    async def feed():
        while True:
            item = await inbox.get()
            if item < 0:
                return
            yield item

    outputs = pipeline.process(feed(), use_rust=use_rust)
    latencies = []
    for i in range(LATENCY_ITEMS):
        t0 = time.perf_counter()
        inbox.put_nowait(i)
        await outputs.__anext__()
        latencies.append(time.perf_counter() - t0)
    inbox.put_nowait(-1)
    async for _ in outputs:
        pass
    latencies = latencies[100:]  # warm-up
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99)]


def speech_chunks() -> list[Audio]:
    """1 s of 16 kHz audio in 10 ms chunks: noise with a 0.4 s tone burst (one speech segment)."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    x = rng.normal(0, 100, t.size) + ((t > 0.3) & (t < 0.7)) * 8000 * np.sin(2 * np.pi * 440 * t)
    samples = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return [Audio(samples[i : i + 160].copy(), 16000) for i in range(0, 16000, 160)]


async def vad_sessions(sessions: int, use_rust: bool) -> tuple[float, list]:
    """Aggregate real-time factor of `sessions` concurrent `VADNode()` streams of 1 s each, fed
    writable numpy chunks (as decoders hand them over); the first session's outputs."""
    chunks = speech_chunks()

    async def one() -> list:
        async def audio():
            for chunk in chunks:
                yield chunk
                await asyncio.sleep(0)  # streams interleave, as live sessions do

        pipeline = Pipeline("vad", [VADNode()])
        return [out async for out in pipeline.process(audio(), use_rust=use_rust)]

    t0 = time.perf_counter()
    outputs = await asyncio.gather(*(one() for _ in range(sessions)))
    elapsed = time.perf_counter() - t0
    assert all(o == outputs[0] for o in outputs)
    return sessions * 1.0 / elapsed, outputs[0]


def row(name: str, rust: float, python: float, unit=fmt) -> str:
    ratio = python / rust
    return f"| {name} | {unit(rust)} | {unit(python)} | {ratio:.1f}x | {'yes' if rust < python else '**no**'} |"


async def main() -> None:
    if not is_rust_runtime_available():
        sys.exit("the Rust runtime is not installed: run `make extension` first")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print()
    print("| measure | Rust engine | pure-Python executor | Rust speed-up | Rust faster |")
    print("|---|---|---|---|---|")
    for name, make in (
        ("process() throughput, 3 native nodes, per item", native_chain),
        ("process() throughput, native + live Node + native, per item", live_chain),
    ):
        r = await per_item_seconds(make(), True)
        p = await per_item_seconds(make(), False)
        print(row(name, r, p))
    r = await per_item_seconds(session_chain(True), True)
    p = await per_item_seconds(session_chain(False), False)
    print(row("process() throughput, native + RustPython Node + native (engine session), per item", r, p))
    r50, r99 = await one_at_a_time(native_chain(), True)
    p50, p99 = await one_at_a_time(native_chain(), False)
    print(row("one item at a time, p50", r50, p50))
    print(row("one item at a time, p99", r99, p99))
    pipeline = native_chain()
    r = await median_run_seconds(pipeline, [1, 2, 3, 4, 5], True, 1.5)
    p = await median_run_seconds(pipeline, [1, 2, 3, 4, 5], False, 1.5)
    print(row("run(), 3 nodes x 5 items", r, p))
    rust_rt, rust_out = await vad_sessions(1000, True)
    python_rt, python_out = await vad_sessions(1000, False)
    assert rust_out == python_out and len(rust_out) == 1, (rust_out, python_out)
    print(
        f"| 1,000 VAD sessions (10 ms chunks), aggregate real time | {rust_rt:.0f}x | {python_rt:.0f}x "
        f"| {rust_rt / python_rt:.1f}x | {'yes' if rust_rt > python_rt else '**no**'} |"
    )


if __name__ == "__main__":
    warnings.simplefilter("error")
    asyncio.run(main())
