"""The fallback's twins of the engine's speech models (``remotemedia-speech``): the same steps,
run through onnxruntime's Python package."""
