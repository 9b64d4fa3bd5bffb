"""remotemedia: real-time audio and media pipelines.

``Pipeline.run()`` runs on the Rust engine (the compiled ``remotemedia_runtime`` extension) when it
is installed and on the pure-Python executor when it is not, with the same results.
"""

from __future__ import annotations

from .audio_files import AudioReader, read_audio, run_files
from .core.node import Node
from .core.pipeline import Pipeline, RunInfo
from .errors import AudioFileError, ManifestError, NodeError, RemoteMediaError, RuntimeSelectionError
from .runtime import engine_threads, get_rust_runtime, is_rust_runtime_available, set_threads, try_load_rust_runtime

__version__ = "0.1.0"

__all__ = [
    "AudioFileError",
    "AudioReader",
    "ManifestError",
    "Node",
    "NodeError",
    "Pipeline",
    "RemoteMediaError",
    "RunInfo",
    "RuntimeSelectionError",
    "__version__",
    "engine_threads",
    "get_rust_runtime",
    "read_audio",
    "run_files",
    "set_threads",
    "is_rust_runtime_available",
    "try_load_rust_runtime",
]
