"""The ``Node`` base class: one step of a pipeline."""

from __future__ import annotations

# Embedded in the engine's interpreters as well (RustPython included), so it imports nothing at
# run time; the names below are for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["Node", "RUNTIME_HINTS"]

#: Accepted values of ``runtime_hint``.
RUNTIME_HINTS = ("auto", "rust", "python", "rustpython", "cpython")
#: Constructor arguments that describe the node in its pipeline rather than configure it.
_NODE_FIELDS = ("name", "runtime_hint", "timeout_ms")


class Node:
    """Base class of every pipeline node.

    Subclasses override :meth:`process`, which receives one input and returns:

    - a value: one output;
    - ``None``: no output (the input is filtered out);
    - a generator or async generator: every value it yields is an output.

    ``process`` may be ``async``. The optional hooks :meth:`initialize` (before the first input),
    :meth:`flush` (at end of stream; returns outputs like ``process``) and :meth:`cleanup`
    (always, after the run) may be sync or async.

    ``name`` becomes the node's id in the manifest (default: ``<node_type>_<position>``);
    ``runtime_hint`` is ``"auto"`` (default), ``"rust"`` (the native implementation, or an error),
    ``"python"`` (this Python implementation), ``"rustpython"`` or ``"cpython"`` (a custom node
    run inside the engine on that interpreter). ``timeout_ms`` limits each ``process``/``flush``
    call of a custom node, on both runtimes (a call past it fails the run with
    ``timed out after N ms``).

    What the methods may return, and how hosts call them, is the node protocol:
    :mod:`remotemedia.core.protocol`.
    """

    #: The manifest ``node_type``; defaults to the class name.
    node_type: ClassVar[str] = "Node"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "node_type" not in cls.__dict__:
            cls.node_type = cls.__name__

    def __new__(cls, *args: Any, **kwargs: Any) -> Node:
        instance = super().__new__(cls)
        # Constructor arguments, kept so the node can be described in a manifest.
        instance._init_args = args
        instance._init_kwargs = {k: v for k, v in kwargs.items() if k not in _NODE_FIELDS}
        return instance

    def __init__(
        self, name: str | None = None, runtime_hint: str = "auto", timeout_ms: int | None = None, **kwargs: Any
    ) -> None:
        if runtime_hint not in RUNTIME_HINTS:
            raise ValueError(f"runtime_hint={runtime_hint!r} is not valid; expected one of {', '.join(RUNTIME_HINTS)}")
        if timeout_ms is not None and (type(timeout_ms) is not int or timeout_ms <= 0):
            raise ValueError(f"timeout_ms={timeout_ms!r} is not valid; expected a positive integer (milliseconds)")
        self.name = name
        self.runtime_hint = runtime_hint
        self.timeout_ms = timeout_ms
        self.config = kwargs

    @property
    def params(self) -> dict[str, Any]:
        """Constructor parameters, as written to a manifest."""
        return dict(self._init_kwargs)

    def initialize(self) -> Any:
        """Called once before the first input of a run."""
        return None

    def process(self, data: Any) -> Any:
        """Handles one input; see the class docstring for what it may return."""
        return data

    def flush(self) -> Any:
        """Called once at end of stream; returns outputs like :meth:`process`."""
        return None

    def cleanup(self) -> Any:
        """Called once after the run, also when it failed."""
        return None

    def __repr__(self) -> str:
        name = f" name={self.name!r}" if self.name else ""
        return f"<{type(self).__name__}{name} runtime_hint={self.runtime_hint!r}>"
