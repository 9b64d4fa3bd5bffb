"""remotemedia on a Ray cluster (``pip install "remotemedia[ray]"``): the same pipelines, many files
on Ray Data and many live streams on Ray Serve. ``import remotemedia`` never imports this module
(nor Ray).

```python
import ray
from remotemedia.ray import process_files

ray.init()
results = process_files("recordings/", "manifests/voice_activity.yaml")   # a Ray Dataset
for row in results.iter_rows():                  # {"path", "outputs" (JSON text), "error"}
    print(row["path"], row["error"] or row["outputs"])
results.write_parquet("local:///tmp/vad")        # or any of Ray's writers
```

- :func:`process_files`: paths, folders or patterns (listed as the CLI lists them), or a Dataset
  with a path or bytes column, to a Dataset of one row per file, computed by an actor pool.
- :class:`FileProcessor`: the callable class underneath, for ``ds.map_batches(FileProcessor, ...)``.
- :func:`serve_app`: the pipelines as a Ray Serve application speaking docs/protocol.md, the
  protocol of ``remotemedia-runtime serve``.

docs/scale-out.md has the cluster recipe and sizing.
"""

from __future__ import annotations

try:
    import ray as _ray  # noqa: F401
except ImportError:
    raise ImportError('remotemedia.ray needs Ray: pip install "remotemedia[ray]"') from None

from typing import Any

from .batch import FileProcessor, process_files

__all__ = ["FileProcessor", "process_files", "serve_app"]


def __getattr__(name: str) -> Any:
    # Serve (and FastAPI) load only when the application is asked for.
    if name == "serve_app":
        from .serve import serve_app

        return serve_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
