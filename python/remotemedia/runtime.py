"""Detection of the compiled Rust runtime (the ``remotemedia_runtime`` extension) and the
``REMOTEMEDIA_RUNTIME`` setting.

Environment variables (all read at call time):

``REMOTEMEDIA_RUNTIME`` = ``auto`` (default) | ``rust`` | ``python``
    ``auto`` uses the Rust runtime when it is installed and can run the pipeline, and the
    pure-Python executor otherwise. ``rust`` makes a missing or unusable runtime an error.
    ``python`` never loads the Rust runtime.

``REMOTEMEDIA_THREADS`` = a positive integer
    Caps the engine's worker threads in this process, and the default ``jobs`` of
    ``run_files`` (see :func:`set_threads`). Unset: every core.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

from .errors import RuntimeSelectionError

__all__ = [
    "try_load_rust_runtime",
    "is_rust_runtime_available",
    "get_rust_runtime",
    "runtime_mode",
    "INSTALL_HINT",
    "set_threads",
    "engine_threads",
]

INSTALL_HINT = (
    "Install the compiled runtime with `pip install remotemedia-runtime` "
    "(or build it from crates/remotemedia-python with `maturin develop --release`)"
)

_MODES = ("auto", "rust", "python")
_checked = False
_available = False
_runtime: ModuleType | None = None
_error: str | None = None
_threads: int | None = None


def runtime_mode() -> str:
    """The value of ``REMOTEMEDIA_RUNTIME`` (``auto`` when unset); raises on anything else."""
    mode = os.environ.get("REMOTEMEDIA_RUNTIME", "auto").strip().lower() or "auto"
    if mode not in _MODES:
        raise RuntimeSelectionError(f"REMOTEMEDIA_RUNTIME={mode!r} is not valid; expected one of {', '.join(_MODES)}")
    return mode


def try_load_rust_runtime() -> tuple[bool, ModuleType | None, str | None]:
    """Try to import the Rust runtime: ``(True, module, None)`` or ``(False, None, reason)``."""
    try:
        import remotemedia_runtime
    except ImportError as e:
        return (False, None, f"Module not found: {e}")
    except Exception as e:  # a broken build raises other errors at import time
        return (False, None, f"Failed to load: {type(e).__name__}: {e}")
    return (True, remotemedia_runtime, None)


def rust_runtime_available(mode: str) -> bool:
    """:func:`is_rust_runtime_available` for an already-read ``REMOTEMEDIA_RUNTIME`` mode."""
    if _checked and mode != "python":
        return _available
    return is_rust_runtime_available()


def is_rust_runtime_available() -> bool:
    """Whether the Rust runtime can be used. Cached after the first call.

    The first call that finds it missing warns once with a ``UserWarning``; importing
    ``remotemedia`` never warns. With ``REMOTEMEDIA_RUNTIME=python`` it is never loaded and this
    returns ``False`` without a warning.
    """
    global _checked, _available, _runtime, _error
    if runtime_mode() == "python":
        return False
    if not _checked:
        _checked = True
        _available, _runtime, _error = try_load_rust_runtime()
        if not _available:
            warnings.warn(
                f"Rust runtime unavailable, falling back to Python execution. {INSTALL_HINT}. Reason: {_error}",
                UserWarning,
                stacklevel=2,
            )
    return _available


def engine() -> ModuleType | None:
    """The extension module for work outside a run (param checks, tagged JSON, WAV files, audio
    files), or ``None`` without it or under ``REMOTEMEDIA_RUNTIME=python``; quietly: the warning
    about a missing engine belongs to runs."""
    if runtime_mode() == "python":
        return None
    if _checked:
        return _runtime
    return try_load_rust_runtime()[1]


def get_rust_runtime() -> ModuleType | None:
    """The Rust runtime module, or ``None`` when it is unavailable."""
    return _runtime if is_rust_runtime_available() else None


def unavailable_reason() -> str | None:
    """Why the Rust runtime could not be loaded (after a check), else ``None``."""
    return _error


def set_threads(threads: int) -> None:
    """Caps the threads the engine uses in this process: its worker threads, and how many files
    ``run_files`` runs at once by default. Several processes sharing a machine (Ray actors,
    containers) should each get their share, so that together they do not oversubscribe the cores.

    Call it before the first run: the engine's thread pool starts once per process, and a later
    call with another count raises ``RuntimeError``. ``REMOTEMEDIA_THREADS`` sets the same cap
    from the environment. Without the engine, it bounds the pure-Python executor's file threads.
    """
    global _threads
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, found {threads!r}")
    if runtime_mode() != "python":
        module = _runtime if _checked else (try_load_rust_runtime()[1])
        if module is not None:
            module.set_threads(threads)
    _threads = threads


def engine_threads() -> int:
    """The threads the engine uses in this process: :func:`set_threads`, else
    ``REMOTEMEDIA_THREADS``, else every core."""
    if _threads is not None:
        return _threads
    module = _runtime if _checked else None
    if module is not None:
        return int(module.threads())
    from ._contract import MESSAGES, THREADS_ENV

    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(MESSAGES["threads_env"].format(value=value))
        return int(value)
    return os.cpu_count() or 1


def _reset_for_tests() -> None:
    """Forget the cached detection (used by the test suite)."""
    global _checked, _available, _runtime, _error, _threads
    _checked, _available, _runtime, _error, _threads = False, False, None, None, None
