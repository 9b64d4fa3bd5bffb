"""Exception classes shared by the pure-Python executor and the Rust extension.

Both runtimes raise these same classes, so code written against one behaves the same on the other.
A user node's own exception is never replaced: it propagates with its class, and the message gains
the failing node's id and type (``node `x` (`MyNode`) failed: ...``).
"""

from __future__ import annotations

__all__ = [
    "AudioFileError",
    "RemoteMediaError",
    "ManifestError",
    "NodeError",
    "RuntimeSelectionError",
]


class RemoteMediaError(Exception):
    """Base class of every error raised by remotemedia itself."""


class ManifestError(RemoteMediaError, ValueError):
    """The pipeline description is invalid.

    ``issues`` holds every problem found, each as ``"path: message"`` (for example
    ``"nodes[1].params.operand: expected a number, found string \\"five\\""``).
    """

    def __init__(self, issues: list[str] | str, origin: str = "(inline)") -> None:
        self.issues: list[str] = [issues] if isinstance(issues, str) else list(issues)
        self.origin = origin
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"invalid manifest {origin}:\n{lines}")


class NodeError(RemoteMediaError):
    """A built-in node failed while the pipeline ran (division by zero, a wrong input type, ...)."""

    def __init__(self, message: str, node_id: str | None = None, node_type: str | None = None) -> None:
        self.node_id = node_id
        self.node_type = node_type
        self.reason = message
        if node_id is not None:
            message = f"node `{node_id}` (`{node_type}`) failed: {message}"
        super().__init__(message)


class RuntimeSelectionError(RemoteMediaError):
    """The requested runtime cannot run this pipeline (for example ``REMOTEMEDIA_RUNTIME=rust``
    without the Rust runtime installed, or ``runtime_hint="rustpython"`` with ``use_rust=False``).
    ``runtime_hint="rust"`` on a node with no native implementation is a manifest rule:
    :class:`ManifestError`."""


class AudioFileError(RemoteMediaError, ValueError):
    """An audio file cannot be read: missing, not audio, in a format this build does not read, or
    damaged. ``path`` names the file; the message says what is wrong."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


def annotate(exc: BaseException, node_id: str, node_type: str) -> BaseException:
    """Makes ``exc`` name the failing node, keeping its class (and identity, for user errors)."""
    if getattr(exc, "node_id", None) is not None:
        return exc
    if isinstance(exc, NodeError):
        fresh = NodeError(exc.reason, node_id, node_type)
        fresh.__cause__ = exc.__cause__
        return fresh.with_traceback(exc.__traceback__)
    prefix = f"node `{node_id}` (`{node_type}`) failed"
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{prefix}: {exc.args[0]}", *exc.args[1:])
    elif not exc.args:
        exc.args = (prefix,)
    try:
        exc.node_id = node_id  # type: ignore[attr-defined]
        exc.node_type = node_type  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return exc
