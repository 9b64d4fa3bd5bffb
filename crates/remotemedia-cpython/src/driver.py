"""Helpers the engine runs inside CPython to load Python nodes and report their failures.

How nodes are driven (what `process`/`flush` may return, lifecycle hooks, async methods) is the node
protocol, `remotemedia.core.protocol`, shared with every other host.
"""

import sys
import traceback
import types


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
    """The traceback text of an exception, as Python prints it (without the engine's frames)."""
    tb = tb or exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__") in (__name__, "remotemedia.core.protocol"):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
