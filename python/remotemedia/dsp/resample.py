"""Band-limited resampling between integer rates: the engine's polyphase filter, in numpy.

Same filter design and the same integer phase arithmetic as the Rust ``Resampler`` (see its docs
and ``AudioResampleNode``): output frame ``n`` reads input frames up to ``(n·M + D) // L``; the
output is time-aligned with the input; at end of stream the input is padded with zeros until
``ceil(frames · L / M)`` frames are out. Sums are taken in float64 (the engine uses float32), so
the two agree to about 1e-6.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["QUALITIES", "design", "Resampler"]

#: ``quality -> (taps per side at the lower rate, stopband attenuation dB)``.
QUALITIES = {"low": (16, 80.0), "medium": (32, 100.0), "high": (64, 120.0)}

_MAX_TABLE = 1 << 24
_BLOCK = 4096


def _bessel_i0(x: np.ndarray) -> np.ndarray:
    """Modified Bessel function of the first kind, order 0 (the engine's power series)."""
    x = np.asarray(x, dtype=np.float64)
    total = np.ones_like(x)
    term = np.ones_like(x)
    q = x * x / 4.0
    k = 1.0
    while True:
        term = term * q / (k * k)
        total = total + term
        k += 1.0
        if np.all(term <= total * 1e-17):
            return total


def design(in_rate: int, out_rate: int, quality: str) -> tuple[int, int, int, int, np.ndarray]:
    """``(L, M, taps, delay, table)``: the polyphase table has ``L`` rows of ``taps`` coefficients,
    reversed, rounded to float32 as in the engine."""
    g = math.gcd(in_rate, out_rate)
    up, down = out_rate // g, in_rate // g
    k, atten = QUALITIES[quality]
    r = max(up, down)
    n = 2 * k * r + 1
    taps = -(-n // up)
    if taps * up > _MAX_TABLE:
        raise ValueError(
            f"resampling {in_rate} Hz to {out_rate} Hz needs {up} filter phases of {taps} taps; "
            f"rate ratios this fine are not supported yet (at most {_MAX_TABLE} coefficients)"
        )
    beta = 0.1102 * (atten - 8.7)
    transition = (atten - 7.95) / (14.36 * k)
    cutoff = (1.0 - transition / 2.0) / r
    centre = float((n - 1) // 2)
    x = np.arange(n, dtype=np.float64) - centre
    arg = cutoff * x
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(arg == 0.0, 1.0, np.sin(np.pi * arg) / (np.pi * arg))
    ratio = x / centre
    window = _bessel_i0(beta * np.sqrt(np.maximum(1.0 - ratio * ratio, 0.0))) / _bessel_i0(np.array(beta))
    h = cutoff * sinc * window
    h *= up / h.sum()
    padded = np.zeros(taps * up)
    padded[:n] = h
    # Row `phase` holds h[phase + j·L] for j = 0..taps, reversed.
    table = padded.reshape(taps, up).T[:, ::-1].astype(np.float32).astype(np.float64)
    return up, down, taps, (n - 1) // 2, np.ascontiguousarray(table)


class Resampler:
    """A streaming resampler for ``(frames, channels)`` float audio."""

    def __init__(self, in_rate: int, out_rate: int, channels: int, quality: str = "high") -> None:
        self.up, self.down, self.taps, self.delay, self.table = design(in_rate, out_rate, quality)
        self.channels = channels
        self._hist = np.zeros((self.taps - 1, channels))
        self._hist_start = -(self.taps - 1)
        self._consumed = 0
        self._produced = 0

    def output_frames(self, frames: int) -> int:
        """Output frames from ``frames`` input frames once the stream has ended."""
        return -(-frames * self.up // self.down)

    def process(self, x: np.ndarray) -> np.ndarray:
        """Feeds ``(frames, channels)`` input; returns the output frames now computable."""
        self._hist = np.concatenate([self._hist, np.asarray(x, dtype=np.float64).reshape(-1, self.channels)])
        self._consumed += len(x)
        ready = self._consumed * self.up - self.delay
        n_end = max(self._produced, -(-ready // self.down)) if ready > 0 else self._produced
        return self._produce(n_end)

    def flush(self) -> np.ndarray:
        """Ends the stream: pads with zeros and returns the remaining output frames."""
        total = self.output_frames(self._consumed)
        if total > self._produced:
            last_base = ((total - 1) * self.down + self.delay) // self.up
            need = last_base + 1 - self._hist_start
            if need > len(self._hist):
                self._hist = np.concatenate([self._hist, np.zeros((need - len(self._hist), self.channels))])
        return self._produce(total)

    def _produce(self, n_end: int) -> np.ndarray:
        out = []
        offsets = np.arange(self.taps)
        for first in range(self._produced, n_end, _BLOCK):
            n = np.arange(first, min(first + _BLOCK, n_end), dtype=np.int64)
            p = n * self.down + self.delay
            start = p // self.up - (self.taps - 1) - self._hist_start
            window = self._hist[start[:, None] + offsets]  # (outputs, taps, channels)
            out.append(np.einsum("ot,otc->oc", self.table[p % self.up], window))
        self._produced = max(self._produced, n_end)
        next_base = (self._produced * self.down + self.delay) // self.up
        drop = min(max(next_base - (self.taps - 1) - self._hist_start, 0), len(self._hist))
        if drop:
            self._hist = self._hist[drop:]
            self._hist_start += drop
        return np.concatenate(out) if out else np.zeros((0, self.channels))
