"""Band-limited resampling between integer rates: the engine's polyphase filter, in numpy.

Same filter design as the Rust ``Resampler`` (see its docs and ``AudioResampleNode``): the output
is time-aligned with the input; at end of stream the input is padded with zeros until
``ceil(frames · L / M)`` frames are out. Computed as the engine computes it: the filter's response applied in the
frequency domain on the same fixed blocks (see ``resample_fft.rs``), or for ratios too fine for
that, the direct loop. Arithmetic is float64 (the engine uses float32), so the two agree to about
1e-6.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["QUALITIES", "design", "Resampler"]

#: ``quality -> (taps per side at the lower rate, stopband attenuation dB)``.
QUALITIES = {"low": (16, 80.0), "medium": (32, 100.0), "high": (64, 130.0)}

_MAX_TABLE = 1 << 24
_BLOCK = 4096
#: The FFT path's default latency budget (the engine's ``DEFAULT_MAX_LATENCY_MS``): ratios whose blocks do
#: not fit run the direct loop.
DEFAULT_MAX_LATENCY_MS = 64
# The engine's limits for the FFT path (ratios needing longer transforms: the direct loop).
_MAX_LEN = 1 << 16
_MAX_DESIGN_LEN = 1 << 22


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
    up, down, taps, h = _prototype(in_rate, out_rate, quality)
    return up, down, taps, (len(h) - 1) // 2, _table(up, taps, h)


def _table(up: int, taps: int, h: np.ndarray) -> np.ndarray:
    padded = np.zeros(taps * up)
    padded[: len(h)] = h
    # Row `phase` holds h[phase + j·L] for j = 0..taps, reversed.
    return np.ascontiguousarray(padded.reshape(taps, up).T[:, ::-1].astype(np.float32).astype(np.float64))


def _prototype(in_rate: int, out_rate: int, quality: str) -> tuple[int, int, int, np.ndarray]:
    """``(L, M, taps per phase, h)``: the prototype low-pass filter at ``L`` times the input rate."""
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
    return up, down, taps, h


class _FftPlan:
    """The engine's ``FftPlan``: blocks of ``block`` outputs, each from a segment of
    ``len_in`` input frames starting ``lead`` frames before the block's first output, transformed,
    multiplied by ``response`` below the lower Nyquist frequency and transformed back at
    ``len_out`` points."""

    def __init__(self, up: int, down: int, len_in: int, len_out: int, lead: int, block: int, response: np.ndarray):
        self.up, self.down, self.len_in, self.len_out, self.lead, self.block = up, down, len_in, len_out, lead, block
        self.response = response

    @classmethod
    def design(cls, up: int, down: int, h: np.ndarray, max_lag: int) -> _FftPlan | None:
        """The plan for factors ``(up, down)`` holding a stream back by at most ``max_lag`` input
        frames, or ``None`` where the engine runs the direct loop (the same choice as the engine's)."""
        half = (len(h) - 1) // 2
        lead = -(-half // up)
        q, best = 1, None
        while True:
            len_in, len_out = q * down, q * up
            if len_in > _MAX_LEN or len_out > _MAX_LEN or max(len_in - lead, 0) > max_lag:
                break
            room = len_in * up - (lead * up + half + 1)
            block = (room // down + 1) // up * up if room >= 0 else 0
            if block >= up:
                best = (q, block)
            if 8 * block >= 7 * len_out:
                break
            q *= 2
        if best is None:
            return None
        q, block = best
        len_in, len_out = q * down, q * up
        size = up * len_in
        if size > _MAX_DESIGN_LEN or len(h) > size:
            return None
        bins = -(-min(len_in, len_out) // 2)
        k = np.arange(bins)
        spectrum = np.fft.rfft(h, n=size)[:bins]
        gain = (spectrum * np.exp(2j * np.pi * k * half / size)).real / up
        response = gain / len_in * np.exp(2j * np.pi * k * lead / len_in)
        return cls(up, down, len_in, len_out, lead, block, response)

    def input_start(self, k: int) -> int:
        """The first input frame block ``k`` reads."""
        return k * self.block // self.up * self.down - self.lead

    def blocks(self, windows: np.ndarray) -> np.ndarray:
        """``(blocks, channels, len_in)`` segments -> ``(blocks · block, channels)`` outputs."""
        # The bins kept, filtered; irfft pads the rest of the output spectrum with zeros.
        spectra = np.fft.rfft(windows, axis=-1)[..., : len(self.response)] * self.response
        out = np.fft.irfft(spectra, n=self.len_out, axis=-1) * self.len_out
        return out[..., : self.block].transpose(0, 2, 1).reshape(-1, windows.shape[1])


class Resampler:
    """A streaming resampler for ``(frames, channels)`` float audio."""

    def __init__(
        self,
        in_rate: int,
        out_rate: int,
        channels: int,
        quality: str = "high",
        max_latency_ms: int = DEFAULT_MAX_LATENCY_MS,
    ) -> None:
        self.up, self.down, self.taps, h = _prototype(in_rate, out_rate, quality)
        self.delay = (len(h) - 1) // 2
        self.channels = channels
        self._plan = _FftPlan.design(self.up, self.down, h, in_rate * max_latency_ms // 1000)
        self.table = _table(self.up, self.taps, h) if self._plan is None else None
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
        if self._plan is not None:
            return self._produce_blocks(self._plan, self.output_frames(self._consumed), flushing=False)
        ready = self._consumed * self.up - self.delay
        n_end = max(self._produced, -(-ready // self.down)) if ready > 0 else self._produced
        return self._produce(n_end)

    def flush(self) -> np.ndarray:
        """Ends the stream: pads with zeros and returns the remaining output frames."""
        total = self.output_frames(self._consumed)
        if self._plan is not None:
            return self._produce_blocks(self._plan, total, flushing=True)
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

    def _produce_blocks(self, plan: _FftPlan, total: int, flushing: bool) -> np.ndarray:
        """The FFT path: whole blocks whose input has arrived (when ``flushing``, the rest too,
        reading zeros past the input), up to ``total`` outputs."""
        ks = []
        k, produced = self._produced // plan.block, self._produced
        while produced < total and (flushing or plan.input_start(k) + plan.len_in <= self._consumed):
            ks.append(k)
            k, produced = k + 1, produced + plan.block
        out = np.zeros((0, self.channels))
        if ks:
            starts = np.array([plan.input_start(j) for j in ks])
            lo, hi = int(starts[0]), int(starts[-1]) + plan.len_in
            buf = np.zeros((hi - lo, self.channels))
            end = min(self._hist_start + len(self._hist), self._consumed)
            a, b = max(lo, self._hist_start, 0), min(hi, end)
            if a < b:
                buf[a - lo : b - lo] = self._hist[a - self._hist_start : b - self._hist_start]
            windows = np.lib.stride_tricks.sliding_window_view(buf, plan.len_in, axis=0)[starts - lo]
            out = plan.blocks(windows)[: total - self._produced]
        self._produced += len(out)
        drop = min(max(plan.input_start(k) - self._hist_start, 0), len(self._hist))
        if drop:
            self._hist = self._hist[drop:]
            self._hist_start += drop
        return out
