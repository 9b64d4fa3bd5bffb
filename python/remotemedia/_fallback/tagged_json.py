"""The fallback's tagged JSON, the engine's wire format for values JSON has no syntax for (bytes,
audio, arrays; the table is in :mod:`remotemedia.tagged_json`). Everything else is plain JSON;
tuples become lists.
"""

from __future__ import annotations

import base64
import math
from typing import Any

__all__ = ["to_tagged", "from_tagged"]

_AUDIO_FORMATS = {"f32": "float32", "i16": "int16", "i32": "int32"}
_AUDIO_NAMES = {v: k for k, v in _AUDIO_FORMATS.items()}


def to_tagged(value: Any) -> Any:
    """``value`` as tagged JSON (a structure ``json.dumps`` takes)."""
    from ..audio import Audio

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as JSON")
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Audio):
        return {
            "$audio": {
                "sample_rate": value.sample_rate,
                "channels": value.channels,
                "format": _AUDIO_NAMES[value.samples.dtype.name],
                "samples": value.samples.reshape(-1).tolist(),
            }
        }
    if isinstance(value, (list, tuple)):
        return [to_tagged(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"dict keys must be str, found {type(k).__name__}")
            out[k] = to_tagged(v)
        return out
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None
    if np is not None and isinstance(value, np.ndarray):
        return {"$array": {"dtype": value.dtype.name, "shape": list(value.shape), "data": value.reshape(-1).tolist()}}
    if np is not None and isinstance(value, np.generic):
        return to_tagged(value.item())
    raise TypeError(f"{type(value).__name__} cannot be written as tagged JSON")


def from_tagged(json_value: Any) -> Any:
    """The value tagged JSON stands for (audio as :class:`~remotemedia.audio.Audio`, arrays as
    numpy arrays)."""
    if isinstance(json_value, list):
        return [from_tagged(v) for v in json_value]
    if not isinstance(json_value, dict):
        return json_value
    if len(json_value) == 1:
        ((key, body),) = json_value.items()
        if key == "$bytes":
            return base64.b64decode(body)
        if key == "$audio":
            import numpy as np

            from ..audio import Audio

            dtype = _AUDIO_FORMATS[body["format"]]
            samples = np.asarray(body["samples"], dtype=dtype).reshape(-1, int(body["channels"]))
            return Audio(samples, int(body["sample_rate"]))
        if key == "$array":
            import numpy as np

            return np.asarray(body["data"], dtype=body["dtype"]).reshape(body["shape"])
    return {k: from_tagged(v) for k, v in json_value.items()}
