""" "Did you mean" suggestions, matching the engine's (case-insensitive, a trailing ``Node`` ignored)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "closest_many"]


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _norm(s: str) -> str:
    lower = s.lower()
    return lower[: -len("node")] if lower.endswith("node") else lower


def closest_many(query: str, candidates: Iterable[str]) -> list[str]:
    """Up to three plausible corrections of ``query``, best first."""
    q = _norm(query)
    scored = []
    for c in candidates:
        d = min(_levenshtein(q, _norm(c)), _levenshtein(query.lower(), c.lower()))
        limit = max(len(q) // 3, 1)
        if d <= limit and d < len(q):
            scored.append((d, c))
    scored.sort(key=lambda t: t[0])
    seen: list[str] = []
    for _, c in scored:
        if c not in seen:
            seen.append(c)
    return seen[:3]


def closest(query: str, candidates: Iterable[str]) -> str | None:
    """The best correction of ``query``, if one is close enough."""
    found = closest_many(query, candidates)
    return found[0] if found else None
