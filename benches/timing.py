"""Timing helpers shared by the Python benchmark scripts."""

from __future__ import annotations

import statistics
import time
from typing import Any


def fmt(seconds: float) -> str:
    """A duration in the unit that reads best (µs, ms or s)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


async def median_run_seconds(
    pipeline: Any, items: list[Any], use_rust: bool, budget: float, min_runs: int = 3, max_runs: int = 2000
) -> float:
    """Median time of ``pipeline.run(items)`` after one warm-up run (planning, interpreters):
    at least ``min_runs`` runs, more while ``budget`` seconds last. Every run must give the
    warm-up's outputs."""
    expected = await pipeline.run(items, use_rust=use_rust)
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - started < budget and len(times) < max_runs):
        t0 = time.perf_counter()
        out = await pipeline.run(items, use_rust=use_rust)
        times.append(time.perf_counter() - t0)
        assert out == expected
    return statistics.median(times)
