"""The `remotemedia` module inside the embedded RustPython interpreter: the value types that
stand for numpy arrays and audio here (`Array`, `Audio`).

The engine adds the package's own `Node` class and node protocol to it (the files
`python/remotemedia/core/node.py` and `protocol.py`, run unchanged), so `from remotemedia import
Node` and `from remotemedia.core.node import Node` work as with the real package.
"""

import array as _array

__all__ = ["Array", "Audio", "Node"]


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


# --- Builtins RustPython computes differently from CPython, replaced by exact implementations. -----
# Each is checked against CPython by the differential tests (tests/python/test_rustpython_parity.py);
# what cannot be fixed here is listed in docs/python-compatibility.md.

import builtins as _builtins
import math as _math

_INF = float("inf")

_native_round = _builtins.round


def _round(number, ndigits=None):
    """`round` as CPython computes it for floats: the exact binary value rounded half to even, then
    correctly converted back (RustPython 0.5 scales by 10**ndigits first, so `round(2.675, 2)` was
    2.68 there and 2.67 in CPython)."""
    if ndigits is None or type(number) is not float:
        return _native_round(number) if ndigits is None else _native_round(number, ndigits)
    n = ndigits if type(ndigits) is int else ndigits.__index__()
    if number != number or number in (float("inf"), float("-inf")):
        return number
    if n > 323:  # beyond the last decimal digit a double can have
        return number
    if n < -308:
        return 0.0 * number
    negative = number < 0 or (number == 0 and str(number).startswith("-"))
    p, q = abs(number).as_integer_ratio()
    num, den = (p * 10**n, q) if n >= 0 else (p, q * 10**-n)
    quotient, remainder = divmod(num, den)
    if 2 * remainder > den or (2 * remainder == den and quotient & 1):
        quotient += 1
    result = float(f"{quotient}e{-n}")
    if result == float("inf"):
        raise OverflowError("rounded value too large to represent")
    return -result if negative else result


_builtins.round = _round

_native_divmod = _builtins.divmod


def _divmod(a, b):
    """`divmod` of floats as CPython computes it (`float_divmod`): RustPython 0.5 gives `(-1.0, -2.0)`
    for `divmod(0, -2.0)` and `30152172.999999996` for the quotient of `divmod(693500, 0.023)`."""
    numbers = (int, float, bool)
    if type(a) not in numbers or type(b) not in numbers or (type(a) is not float and type(b) is not float):
        return _native_divmod(a, b)
    vx, wx = float(a), float(b)
    if wx == 0.0:
        raise ZeroDivisionError("float divmod()")
    if vx != vx or wx != wx or vx in (_INF, -_INF) or wx in (_INF, -_INF):
        return _native_divmod(a, b)
    mod = _math.fmod(vx, wx)
    div = (vx - mod) / wx
    if mod:
        if (wx < 0) != (mod < 0):
            mod += wx
            div -= 1.0
    else:
        mod = _math.copysign(0.0, wx)
    if div in (_INF, -_INF):
        floordiv = div
    elif div:
        floordiv = float(_math.floor(div))
        if div - floordiv > 0.5:
            floordiv += 1.0
    else:
        floordiv = _math.copysign(0.0, vx / wx)
    return (floordiv, mod)


_builtins.divmod = _divmod


# --- json: RustPython 0.5's accelerated string escaping drops a digit (`"\x1b"` is written as
# `"\u001"`), which corrupts data. When `json.encoder` is first imported, its escaping is switched to
# the module's own pure-Python implementation (what CPython's json falls back to without `_json`).
# Installed as an import hook so that nodes that never use json do not pay for importing it.

import sys as _sys


class _WrappedLoader:
    def __init__(self, loader, after):
        self._loader = loader
        self._after = after

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._after(module)


def _fix_json_encoder(module):
    module.encode_basestring_ascii = module.py_encode_basestring_ascii
    module.encode_basestring = module.py_encode_basestring
    module.c_make_encoder = None


class _FixJsonEncoder:
    """Meta-path hook: loads `json.encoder` as usual, then applies `_fix_json_encoder`."""

    def find_spec(self, name, path=None, target=None):
        if name != "json.encoder":
            return None
        for finder in _sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _WrappedLoader(spec.loader, _fix_json_encoder)
                return spec
        return None


_sys.meta_path.insert(0, _FixJsonEncoder())
