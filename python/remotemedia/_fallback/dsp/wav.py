"""WAV files in numpy, with the engine's mapping (Python's ``wave`` module reads integer PCM only).

Reading: 8- and 16-bit integer files become int16 samples (8-bit shifted up by 8 bits), 24- and
32-bit integer files int32 (24-bit shifted up by 8 bits), 32-bit float files float32. Writing:
float32 as 32-bit float, int16 as 16-bit, int32 as 32-bit, unless ``encoding`` (``i8``, ``i16``,
``i24``, ``i32``, ``f32``) says otherwise. Files with more than two channels or more than 16 bits
are written as WAVE_FORMAT_EXTENSIBLE, as the engine (hound) writes them.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .samples import convert

__all__ = ["read_samples", "write_samples", "parse_format", "decode_samples", "Layout", "ENCODINGS"]

ENCODINGS = ("i8", "i16", "i24", "i32", "f32")
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def read_samples(path: str | Path) -> tuple[np.ndarray, int]:
    """``(samples (frames, channels), sample_rate)`` of a WAV file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"cannot read `{path}`: {e.strerror or e}") from None
    try:
        return _parse(data)
    except (ValueError, struct.error) as e:
        raise ValueError(f"`{path}`: {e}") from None


def _parse(data: bytes) -> tuple[np.ndarray, int]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a readable WAV file: no RIFF/WAVE header")
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        chunk = data[pos + 8 : pos + 8 + size]
        if tag == b"fmt ":
            fmt = chunk
        elif tag == b"data":
            body = chunk
            break
        pos += 8 + size + (size & 1)
    if fmt is None or body is None:
        raise ValueError("not a readable WAV file: missing `fmt ` or `data` chunk")
    layout = parse_format(fmt)
    return decode_samples(body, layout), layout.rate


class Layout(NamedTuple):
    """What a WAV ``fmt `` chunk says: ``kind`` (``integer`` or ``float``), channels, rate, bits."""

    kind: str
    channels: int
    rate: int
    bits: int

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame (all channels)."""
        return self.bits // 8 * self.channels


def parse_format(fmt: bytes) -> Layout:
    """The layout of a ``fmt `` chunk's bytes; a ``ValueError`` for one this reader cannot decode."""
    if len(fmt) < 16:
        raise ValueError("not a readable WAV file: `fmt ` chunk too short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]
    kind = {_PCM: "integer", _FLOAT: "float"}.get(tag)
    if kind is None or channels == 0 or rate == 0:
        raise ValueError(f"WAV format tag {tag} is not supported yet (integer and float PCM are)")
    if (kind, bits) not in (("float", 32), ("integer", 8), ("integer", 16), ("integer", 24), ("integer", 32)):
        raise ValueError(
            f"{bits}-bit {kind} WAV data is not supported yet (8/16/24/32-bit integer and 32-bit float are)"
        )
    return Layout(kind, channels, int(rate), bits)


def decode_samples(body: bytes, layout: Layout) -> np.ndarray:
    """``(frames, channels)`` samples of WAV data bytes (a partial last frame is dropped)."""
    kind, channels, bits = layout.kind, layout.channels, layout.bits
    body = body[: len(body) // layout.frame_bytes * layout.frame_bytes]
    if kind == "float":
        x = np.frombuffer(body, dtype="<f4").astype(np.float32)
    elif bits == 8:
        x = (np.frombuffer(body, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif bits == 16:
        x = np.frombuffer(body, dtype="<i2").astype(np.int16)
    elif bits == 24:
        b = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        x = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
    else:
        x = np.frombuffer(body, dtype="<i4").astype(np.int32)
    return x.reshape(-1, channels)


def write_samples(path: str | Path, samples: np.ndarray, sample_rate: int, encoding: str | None = None) -> None:
    """Writes ``(frames, channels)`` (or ``(frames,)``) samples to a WAV file."""
    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples.reshape(-1, 1)
    natural = {"float32": "f32", "int16": "i16", "int32": "i32"}
    encoding = encoding or natural.get(samples.dtype.name)
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown WAV encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    channels = samples.shape[1]
    if encoding == "f32":
        body, bits, tag = convert(samples, np.float32).astype("<f4").tobytes(), 32, _FLOAT
    elif encoding in ("i8", "i16"):
        x = convert(samples, np.int16)
        if encoding == "i8":
            y = np.clip(np.rint(x.astype(np.float64) / 256.0), -128, 127).astype(np.int16)
            body, bits = (y + 128).astype(np.uint8).tobytes(), 8
        else:
            body, bits = x.astype("<i2").tobytes(), 16
        tag = _PCM
    else:
        x = convert(samples, np.int32)
        if encoding == "i24":
            y = np.clip(np.rint(x.astype(np.float64) / 256.0), -(1 << 23), (1 << 23) - 1).astype("<i4")
            body, bits = y.view(np.uint8).reshape(-1, 4)[:, :3].tobytes(), 24
        else:
            body, bits = x.astype("<i4").tobytes(), 32
        tag = _PCM
    align = channels * bits // 8
    if channels > 2 or bits > 16:
        mask = (1 << channels) - 1 if channels <= 18 else 0
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack(
            "<HHIIHHHHI", _EXTENSIBLE, channels, sample_rate, sample_rate * align, align, bits, 22, bits, mask
        )
        fmt += guid
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * align, align, bits)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body
    if len(body) & 1:
        riff += b"\x00"
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
