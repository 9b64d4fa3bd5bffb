"""Audio as a first-class pipeline value.

An :class:`Audio` holds ``samples``, a numpy array of shape ``(frames, channels)`` (or
``(frames,)`` for mono) with dtype ``float32`` (nominal range -1..1), ``int16`` or ``int32``, and
its ``sample_rate`` in Hz. Samples are interleaved in memory (C order), the layout the engine uses,
so C-contiguous audio crosses into the Rust engine and back without a copy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Audio", "read_wav", "write_wav"]

_DTYPES = ("float32", "int16", "int32")


class Audio:
    """PCM audio: ``samples`` (numpy, ``(frames, channels)``) and ``sample_rate``."""

    __slots__ = ("sample_rate", "samples")

    def __init__(self, samples: Any, sample_rate: int) -> None:
        import numpy as np

        samples = np.asarray(samples)
        if samples.ndim == 1:
            samples = samples.reshape(-1, 1)
        if samples.ndim != 2:
            raise ValueError(f"Audio samples must have shape (frames,) or (frames, channels), found {samples.shape}")
        if samples.dtype.name not in _DTYPES:
            raise ValueError(f"Audio samples must be float32, int16 or int32, found {samples.dtype.name}")
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive int, found {sample_rate!r}")
        self.samples = samples
        self.sample_rate = sample_rate

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        """Samples per channel."""
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    def __eq__(self, other: object) -> bool:
        import numpy as np

        return (
            isinstance(other, Audio)
            and self.sample_rate == other.sample_rate
            and self.samples.dtype == other.samples.dtype
            and self.samples.shape == other.samples.shape
            and bool(np.array_equal(self.samples, other.samples))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Audio({self.frames} frames x {self.channels} ch, {self.sample_rate} Hz, {self.samples.dtype.name})"


def read_wav(path: Any) -> Audio:
    """A WAV file as audio: 8/16-bit files as int16, 24/32-bit as int32, float files as float32
    (the engine's mapping). ``ValueError`` for a file that is not a readable WAV file."""
    from .runtime import engine

    module = engine()
    if module is not None:
        return module.read_wav(str(path))
    from ._fallback.dsp.wav import read_samples

    samples, rate = read_samples(path)
    return Audio(samples, rate)


def write_wav(path: Any, audio: Audio, encoding: str | None = None) -> None:
    """Writes audio to a WAV file, in its own sample format unless ``encoding`` (``i8``, ``i16``,
    ``i24``, ``i32``, ``f32``) says otherwise."""
    from .runtime import engine

    module = engine()
    if module is not None:
        module.write_wav(str(path), audio, encoding)
        return
    from ._fallback.dsp.wav import write_samples

    write_samples(path, audio.samples, audio.sample_rate, encoding)
