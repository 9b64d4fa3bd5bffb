"""Many files on Ray Data: one row per file, ``{"path", "outputs", "error"}``, computed by a pool of
actors that each build the pipeline once and stream every file through the native decoder.

A row's ``outputs`` is the JSON text of the file's outputs exactly as ``remotemedia-runtime run``
prints them in its many-files mode (tagged JSON for audio, arrays and bytes; ``None`` when the file
failed), and ``error`` is the CLI's message for a failed file (``None`` when it ran). A failed file
is a row, never a failed job. Text columns keep the Dataset writable with any of Ray's writers
(``write_json``, ``write_parquet``); ``json.loads`` and :func:`remotemedia.tagged_json.from_tagged`
give the Python values back.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import ray

from ..audio_files import bytes_json_line, expand_inputs, file_json_lines
from ..core.pipeline import Pipeline
from .resources import cap_engine_threads

__all__ = ["FileProcessor", "process_files"]

ROW_COLUMNS = ("path", "outputs", "error")
_BYTES_WITH_OUTPUT_DIR = "`output_dir` with file contents (a bytes column) is not supported yet: give paths"


def _load(pipeline: Any) -> Pipeline:
    if isinstance(pipeline, Pipeline):
        return pipeline
    if isinstance(pipeline, (str, os.PathLike, dict)):
        return Pipeline.from_manifest(pipeline)
    raise TypeError(
        "pipeline must be a remotemedia.Pipeline, a manifest path, or a manifest dict or text; "
        f"found {type(pipeline).__name__}"
    )


def _portable(pipeline: Any) -> Any:
    """What the actors build the pipeline from: a manifest (a path must exist on every node, as the
    audio files must; a `Pipeline` travels as its manifest)."""
    if isinstance(pipeline, Pipeline):
        return json.loads(pipeline.serialize())
    if isinstance(pipeline, os.PathLike) or (isinstance(pipeline, str) and os.path.isfile(pipeline)):
        return os.path.abspath(os.fspath(pipeline))
    _load(pipeline)  # a bad manifest fails here, on the driver, not in every actor
    return pipeline


def _mirrored(output_dir: str, path: str) -> str:
    """The folder a file's audio outputs go to: its own folder mirrored under ``output_dir``, so
    that files of the same name never overwrite each other, whichever actor runs them."""
    parent = Path(os.path.abspath(path)).parent
    return str(Path(output_dir) / parent.relative_to(parent.anchor))


def _column(batch: Any, name: str | None) -> list[Any] | None:
    if name is None or name not in batch:
        return None
    values = batch[name]
    return list(values.tolist() if hasattr(values, "tolist") else values)


class FileProcessor:
    """The callable class for ``ds.map_batches``: builds the pipeline once per actor, then runs
    each row's file (a ``path`` column, or a ``bytes`` column with the file's content) and returns
    the rows ``{"path", "outputs", "error"}``.

    ```python
    ds = ray.data.from_items([{"path": p} for p in paths])
    ds = ds.map_batches(FileProcessor, fn_constructor_kwargs={"pipeline": "manifests/voice_activity.yaml"},
                        compute=ray.data.ActorPoolStrategy(size=2), num_cpus=1)
    ```

    ``threads`` caps the engine's threads in the actor (default: the CPUs Ray reserved for it,
    ``num_cpus``), and is also how many of a batch's files run at once. ``output_dir`` writes each
    file's audio outputs under its own folder mirrored there (``/data/a/x.wav`` becomes
    ``OUTPUT_DIR/data/a/x.wav``); on a cluster it must be storage every node shares. With it, rows
    are run from their paths (a bytes column alone is refused).
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        chunk_ms: int = 100,
        output_dir: str | os.PathLike[str] | None = None,
        output_format: str = "wav",
        threads: int | None = None,
        path_column: str = "path",
        bytes_column: str | None = "bytes",
    ) -> None:
        self.threads = cap_engine_threads(threads)
        self.pipeline = _load(pipeline)
        self.chunk_ms = chunk_ms
        self.output_dir = None if output_dir is None else os.fspath(output_dir)
        self.output_format = output_format
        self.path_column = path_column
        self.bytes_column = bytes_column

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        if hasattr(batch, "to_dict") and not isinstance(batch, dict):  # a pandas batch
            batch = {c: batch[c].tolist() for c in batch.columns}
        paths = _column(batch, self.path_column)
        contents = _column(batch, self.bytes_column)
        if paths is None and contents is None:
            raise ValueError(
                f"a batch needs a `{self.path_column}` or a `{self.bytes_column}` column; it has {sorted(batch)}"
            )
        if self.output_dir is not None:
            if paths is None:
                raise ValueError(_BYTES_WITH_OUTPUT_DIR)
            contents = None  # audio outputs are written per file: open the files themselves
        count = len(paths if paths is not None else contents)
        names = paths if paths is not None else [f"row {i}" for i in range(count)]
        records = asyncio.run(self._run(names, contents))
        rows: dict[str, list[Any]] = {c: [] for c in ROW_COLUMNS}
        for name, record in zip(names, records):
            rows["path"].append(str(name))
            rows["outputs"].append(
                json.dumps(record["outputs"], separators=(",", ":")) if "outputs" in record else None
            )
            rows["error"].append(record.get("error"))
        return rows

    async def _run(self, names: list[Any], contents: list[Any] | None) -> list[dict[str, Any]]:
        slots = asyncio.Semaphore(self.threads)

        async def one(i: int) -> dict[str, Any]:
            name = str(names[i])
            async with slots:
                try:
                    if contents is not None and contents[i] is not None:
                        line = await bytes_json_line(self.pipeline, contents[i], name, chunk_ms=self.chunk_ms)
                    else:
                        out = None if self.output_dir is None else _mirrored(self.output_dir, name)
                        (line,) = await file_json_lines(
                            self.pipeline,
                            [name],
                            chunk_ms=self.chunk_ms,
                            output_dir=out,
                            output_format=self.output_format,
                        )
                    return json.loads(line)
                except Exception as e:  # a file that cannot even start is that row's error
                    return {"file": name, "error": str(e)}

        return list(await asyncio.gather(*(one(i) for i in range(len(names)))))


def process_files(
    paths_or_dataset: Any,
    pipeline: Any,
    *,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    batch_size: int | None = None,
    chunk_ms: int = 100,
    output_dir: str | os.PathLike[str] | None = None,
    output_format: str = "wav",
    path_column: str = "path",
    bytes_column: str = "bytes",
) -> ray.data.Dataset:
    """Runs ``pipeline`` over many audio files on Ray: a Dataset of rows
    ``{"path", "outputs", "error"}`` (lazy, as every Dataset: iterate, ``take_all`` or write it).

    ``paths_or_dataset`` is a path, folder or glob pattern, a list of them (listed as the CLI
    lists them: folders recursively, in sorted order; made absolute here, so that every actor opens
    the same files), or a Dataset with a ``path_column`` (files
    every node can read) or a ``bytes_column`` (the files' content, as ``read_binary_files`` gives
    with ``include_paths=True``). ``pipeline`` is a :class:`~remotemedia.Pipeline`, or a manifest
    (path, dict or text).

    ``actors`` fixes the pool size (default: grows from 1 up to the cluster's CPUs divided by
    ``cpus_per_actor``); each actor reserves ``cpus_per_actor`` CPUs and caps its engine threads
    to them. ``batch_size`` rows go to an actor at a time (default: small enough that every actor
    gets several batches).
    """
    if isinstance(paths_or_dataset, ray.data.Dataset):
        dataset = paths_or_dataset
        columns = set(dataset.columns() or [])
        if path_column not in columns and bytes_column not in columns:
            raise ValueError(
                f"the Dataset needs a `{path_column}` or a `{bytes_column}` column; it has {sorted(columns)}"
            )
        if output_dir is not None and path_column not in columns:
            raise ValueError(_BYTES_WITH_OUTPUT_DIR)
        count = None
    else:
        inputs = [paths_or_dataset] if isinstance(paths_or_dataset, (str, os.PathLike)) else list(paths_or_dataset)
        # Absolute: an actor on another node (or in another working folder) opens the same files.
        files = [os.path.abspath(f) for f in expand_inputs(inputs)]
        if not files:
            raise ValueError(f"no audio files in {', '.join(f'`{os.fspath(i)}`' for i in inputs)}")
        dataset = ray.data.from_items([{path_column: f} for f in files])
        count = len(files)
    if actors is not None and actors < 1:
        raise ValueError(f"actors must be at least 1, found {actors}")
    if cpus_per_actor <= 0:
        raise ValueError(f"cpus_per_actor must be positive, found {cpus_per_actor}")
    if not ray.is_initialized():
        ray.init()  # as Ray Data would: a local Ray, or the cluster of RAY_ADDRESS
    most = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    if count is None:
        # A Dataset of the user's may start with a read, whose tasks need a CPU beside the actors'.
        most = max(1, most - 1)
    compute = (
        ray.data.ActorPoolStrategy(size=actors)
        if actors is not None
        else ray.data.ActorPoolStrategy(min_size=1, max_size=most)
    )
    if batch_size is None:
        pool = actors or most
        batch_size = 1 if count is None else max(1, min(16, count // (pool * 4)))
    return dataset.map_batches(
        FileProcessor,
        fn_constructor_kwargs={
            "pipeline": _portable(pipeline),
            "chunk_ms": chunk_ms,
            "output_dir": None if output_dir is None else os.path.abspath(os.fspath(output_dir)),
            "output_format": output_format,
            "path_column": path_column,
            "bytes_column": bytes_column,
        },
        compute=compute,
        num_cpus=cpus_per_actor,
        batch_size=batch_size,
        batch_format="numpy",
    )
