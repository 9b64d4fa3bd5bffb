# inputs: [[0, 1000, -1000, 32767], [5, -5], []]
"""audioop (a C extension module): RMS and peak of 16-bit PCM. Needs CPython."""

import audioop
import struct

from remotemedia import Node


class Program(Node):
    def process(self, samples):
        fragment = struct.pack(f"<{len(samples)}h", *samples)
        if not fragment:
            return {"rms": 0, "peak": 0}
        return {"rms": audioop.rms(fragment, 2), "peak": audioop.max(fragment, 2)}
