"""The shipped models (copies of ``crates/remotemedia-models/models``, kept identical by
``make schema`` and checked by a test): Silero VAD v6 at 16 and 8 kHz (MIT, ``LICENSE-silero-vad``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SILERO_VAD"]

#: The shipped Silero VAD model for each sample rate.
SILERO_VAD = {
    16000: Path(__file__).with_name("silero_vad_16k.onnx"),
    8000: Path(__file__).with_name("silero_vad_8k.onnx"),
}
