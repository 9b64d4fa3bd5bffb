"""The pure-Python fallback: what runs a pipeline when the engine (the ``remotemedia_runtime``
extension) is not installed or is asked away (``use_rust=False``, ``REMOTEMEDIA_RUNTIME=python``).
Only :mod:`remotemedia._backend` imports it, and only then."""
