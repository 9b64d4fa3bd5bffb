"""The engine's tagged JSON for values JSON has no syntax for (the CLI's and the server's wire
format, ``remotemedia_core::value::json``):

| value | JSON |
|---|---|
| bytes | ``{"$bytes": "<base64>"}`` |
| audio | ``{"$audio": {"sample_rate": 16000, "channels": 1, "format": "f32", "samples": [...]}}`` (interleaved) |
| array | ``{"$array": {"dtype": "float32", "shape": [2, 3], "data": [...]}}`` (row-major) |

Everything else is plain JSON; tuples become lists. The engine converts when it is installed.
"""

from __future__ import annotations

from ._shared import from_tagged, to_tagged

__all__ = ["to_tagged", "from_tagged"]
