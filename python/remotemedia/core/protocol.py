"""The node protocol, written once: what a node's methods may return, and how a host drives them.

Every host runs this very file: the pure-Python executor imports it, and the engine embeds it in
its CPython host (the binary's embedded interpreter and the extension) and in every RustPython
interpreter. So a node behaves alike wherever it runs.

``process(data)`` and ``flush()`` return:

- ``None``: no output (``process`` filters the input out);
- a generator or an async generator: every item it yields is an output, in order;
- a coroutine (``async def``) or another awaitable: its result, read by these same rules;
- anything else, a list included: exactly one output.

``initialize()`` (before the first input) and ``cleanup()`` (after the run, also when it failed)
are optional and may be sync or async.

The file must run on RustPython too: it imports only ``types`` up front, and ``asyncio`` only when a
node is async.
"""

import types as _types

__all__ = ["call_hook", "call_hook_async", "outputs", "outputs_as_made", "outputs_async", "run_awaitable"]

_GENERATOR = _types.GeneratorType
_ASYNC_GENERATOR = _types.AsyncGeneratorType
_COROUTINE = _types.CoroutineType


def _is_awaitable(value):
    cls = type(value)
    return cls is _COROUTINE or (cls is not _GENERATOR and hasattr(cls, "__await__"))


def _plain_outputs(result):
    """The outputs of a result that needs no event loop."""
    if result is None:
        return []
    if type(result) is _GENERATOR:
        return list(result)
    return [result]


def outputs(result):
    """The list of outputs a ``process``/``flush`` result stands for, on a thread without a
    running event loop (async results are run to completion by :func:`run_awaitable`)."""
    if type(result) is _ASYNC_GENERATOR or _is_awaitable(result):
        return run_awaitable(outputs_async(result))
    return _plain_outputs(result)


async def outputs_async(result):
    """:func:`outputs` for a host that runs in an event loop (the pure-Python executor)."""
    if _is_awaitable(result):
        result = await result
    if type(result) is _ASYNC_GENERATOR:
        return [item async for item in result]
    return _plain_outputs(result)


async def outputs_as_made(result):
    """:func:`outputs_async` an item at a time: a generator's items as it yields them, so that a
    host can pass the first on before the node makes the next."""
    if _is_awaitable(result):
        result = await result
    if type(result) is _ASYNC_GENERATOR:
        async for item in result:
            yield item
    elif type(result) is _GENERATOR:
        for item in result:
            yield item
    elif result is not None:
        yield result


def call_hook(node, name):
    """Calls the optional lifecycle method ``name`` (``initialize``, ``cleanup``), awaiting it if
    it is async."""
    method = getattr(node, name, None)
    if method is not None:
        result = method()
        if _is_awaitable(result):
            run_awaitable(result)


async def call_hook_async(node, name):
    """:func:`call_hook` for a host that runs in an event loop."""
    method = getattr(node, name, None)
    if method is not None:
        result = method()
        if _is_awaitable(result):
            await result


_loops = None
_helper = None


def run_awaitable(awaitable):
    """Runs ``awaitable`` to completion on this thread's own event loop and returns its result.

    Called from inside a running event loop (a host program's), it runs on a helper thread's loop
    instead, since one thread cannot run two loops.
    """
    global _loops, _helper
    import asyncio
    import threading

    if asyncio._get_running_loop() is not None:
        if _helper is None:
            from concurrent.futures import ThreadPoolExecutor

            _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="remotemedia-async")
        return _helper.submit(run_awaitable, awaitable).result()
    if _loops is None:
        _loops = threading.local()
    own = getattr(_loops, "own", None)
    if own is None or own.loop.is_closed():
        own = _loops.own = _OwnLoop(asyncio.new_event_loop())
    return own.loop.run_until_complete(_as_coroutine(awaitable))


class _OwnLoop:
    """A thread's private event loop, closed when the thread's locals go (the thread ended)."""

    def __init__(self, loop):
        self.loop = loop

    def __del__(self):
        if not self.loop.is_closed():
            self.loop.close()


async def _as_coroutine(awaitable):
    return await awaitable
