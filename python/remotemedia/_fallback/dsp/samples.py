"""Sample conversions with the engine's rounding and clipping rules.

- float → integer: scale by the integer's full scale (2^15 or 2^31), round half to even, clip;
  NaN becomes 0.
- integer → float: divide by the full scale.
- int16 → int32 shifts left by 16 bits; int32 → int16 rounds half to even after dividing by 2^16
  and clips.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convert", "to_float32", "FORMATS"]

#: Sample formats by name, as in manifests.
FORMATS = {"f32": np.dtype(np.float32), "i16": np.dtype(np.int16), "i32": np.dtype(np.int32)}

_I32_SCALE = 2147483648.0


def _round_clip(x: np.ndarray, lo: float, hi: float, dtype: type) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        y = np.clip(np.rint(x), lo, hi)
    return np.where(np.isnan(y), 0, y).astype(dtype)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """Samples as float32 in -1..1."""
    if samples.dtype == np.float32:
        return samples
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / np.float32(32768.0)
    if samples.dtype == np.int32:
        return (samples.astype(np.float64) / _I32_SCALE).astype(np.float32)
    return samples.astype(np.float32)


def convert(samples: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Samples stored as ``dtype`` (float32, int16 or int32); the same array when they already are."""
    dtype = np.dtype(dtype)
    if samples.dtype == dtype:
        return samples
    if samples.dtype == np.int16 and dtype == np.int32:
        return samples.astype(np.int32) << 16
    if samples.dtype == np.int32 and dtype == np.int16:
        return _round_clip(samples.astype(np.float64) / 65536.0, -32768, 32767, np.int16)
    x = to_float32(samples)
    if dtype == np.float32:
        return x
    if dtype == np.int16:
        return _round_clip(x * np.float32(32768.0), -32768, 32767, np.int16)
    return _round_clip(x.astype(np.float64) * _I32_SCALE, -_I32_SCALE, _I32_SCALE - 1, np.int32)
