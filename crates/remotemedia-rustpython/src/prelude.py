"""The `remotemedia` module inside the embedded RustPython interpreter.

User node modules import their base class from here (`from remotemedia import Node`, or
`from remotemedia.core.node import Node`), exactly as they do with the real package.
"""

import array as _array

__all__ = ["Array", "Audio", "Node"]


class Node:
    """Base class of pipeline nodes (same interface as `remotemedia.Node`)."""

    node_type = "Node"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "node_type" not in cls.__dict__:
            cls.node_type = cls.__name__

    def __init__(self, name=None, runtime_hint="auto", **kwargs):
        self.name = name
        self.runtime_hint = runtime_hint
        self.config = kwargs

    def initialize(self):
        return None

    def process(self, data):
        return data

    def flush(self):
        return None

    def cleanup(self):
        return None


_TYPECODES = {
    "bool": "B",
    "int8": "b",
    "uint8": "B",
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
    "float32": "f",
    "float64": "d",
}


class Array:
    """An n-dimensional numeric array: `data` (a flat `array.array`, row-major), `shape`, `dtype`."""

    __slots__ = ("data", "dtype", "shape")

    def __init__(self, data, shape=None, dtype=None):
        if not isinstance(data, _array.array):
            data = _array.array(_TYPECODES[dtype or "float64"], data)
        self.data = data
        self.dtype = dtype or {v: k for k, v in _TYPECODES.items() if k != "bool"}[data.typecode]
        self.shape = tuple(shape) if shape is not None else (len(data),)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self.data[index]

    def __iter__(self):
        return iter(self.data)

    def tolist(self):
        return self.data.tolist()

    def memoryview(self):
        return memoryview(self.data)

    def __repr__(self):
        return f"Array(shape={self.shape}, dtype={self.dtype!r})"


class Audio:
    """PCM audio: interleaved `samples` (`array.array`), `sample_rate`, `channels`, `format`."""

    __slots__ = ("channels", "format", "sample_rate", "samples")

    def __init__(self, samples, sample_rate, channels=1, format="f32"):
        if not isinstance(samples, _array.array):
            samples = _array.array({"f32": "f", "i16": "h", "i32": "i"}[format], samples)
        self.samples = samples
        self.sample_rate = sample_rate
        self.channels = channels
        self.format = format

    @property
    def frames(self):
        return len(self.samples) // self.channels

    def __repr__(self):
        return f"Audio({self.frames} frames x {self.channels} ch, {self.sample_rate} Hz, {self.format})"
