"""The engine's share of a Ray worker: its thread cap from the CPUs Ray reserved for the actor or
replica it runs in, so that several on one machine do not oversubscribe the cores."""

from __future__ import annotations

import math

import ray

from ..runtime import set_threads


def reserved_threads() -> int:
    """The CPUs Ray reserved for this actor, rounded up (at least 1; 1 outside a Ray worker)."""
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    except Exception:  # not in a Ray worker
        cpus = 1.0
    return max(1, math.ceil(cpus))


def cap_engine_threads(threads: int | None = None) -> int:
    """Caps this process's engine to ``threads`` (default: :func:`reserved_threads`); the count."""
    count = threads or reserved_threads()
    set_threads(count)
    return count
