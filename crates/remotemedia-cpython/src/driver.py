"""Helpers the engine runs inside CPython to load and drive Python nodes.

Kept in Python because each is what the pure-Python executor does, so both paths behave alike:
`outputs` normalizes what `process`/`flush` returned exactly as `remotemedia.executor.collect_outputs`
does (a value, `None`, a generator, an async generator, or a coroutine of any of these).
"""

import asyncio
import inspect
import sys
import threading
import traceback
import types

_local = threading.local()


_helper = None


def _run(awaitable):
    """Runs an awaitable to completion on this thread's private event loop; from inside a running
    event loop (the caller's), on a helper thread's loop instead."""
    if asyncio._get_running_loop() is not None:
        global _helper
        if _helper is None:
            from concurrent.futures import ThreadPoolExecutor

            _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="remotemedia-async")
        return _helper.submit(_run, awaitable).result()
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(awaitable)


async def _collect_async(agen):
    return [item async for item in agen]


def outputs(result):
    """The list of outputs a `process`/`flush` result stands for."""
    if inspect.isawaitable(result):
        result = _run(result)
    if result is None:
        return []
    if inspect.isgenerator(result):
        return list(result)
    if inspect.isasyncgen(result):
        return _run(_collect_async(result))
    return [result]


def hook(node, method):
    """Calls an optional lifecycle hook (`initialize`, `cleanup`), awaiting it if async."""
    function = getattr(node, method, None)
    if function is not None:
        result = function()
        if inspect.isawaitable(result):
            _run(result)


def load_source(name, source, path):
    """Runs `source` as a new module `name` (registered in `sys.modules`) and returns it."""
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    try:
        exec(compile(source, path, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def format_exception(exc, tb):
    """The traceback text of an exception, as Python prints it (without the driver's frames)."""
    tb = tb or exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") == __name__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
