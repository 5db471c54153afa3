"""Asset values as files under one base URI: a local folder by default, `s3://bucket/prefix` in production."""

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import dagster as dg
import joblib
import numpy as np
import pandas as pd
from upath import UPath


class ObjectStore(dg.ConfigurableResource):
    """One base URI for every file the platform writes, so exports sit beside the asset data and
    moving from a local folder to S3 (or any S3-compatible server via `endpoint_url`) is config only.
    Credentials come from the usual AWS environment/boto chain, never from here."""

    base_uri: str = ".ml_platform/storage"
    endpoint_url: str | None = None

    def path(self, relative_path: str = "") -> UPath:
        """A path under the base URI, carrying the endpoint so callers never build S3 clients."""
        options = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
        base = UPath(self.base_uri, **options)
        return base / relative_path if relative_path else base

    def read_value(self, asset_path: str) -> Any | None:
        """What the IO manager last stored for an unpartitioned asset (e.g. "em_model"), or None.

        Lets an asset start from its own previous materialization (a warm start) without making
        itself its own upstream, which Dagster does not allow for unpartitioned assets.
        """
        try:
            return _read_stored(self.path(asset_path))
        except FileNotFoundError:
            return None

    def write_bytes(self, relative_path: str, data: bytes) -> str:
        """Write a file that is not an asset value (e.g. a CSV export) and return its URI for metadata."""
        path = self.path(relative_path)
        write_atomically(path, lambda file: file.write(data))
        return str(path)


def _is_local(path: UPath) -> bool:
    return path.protocol in ("", "file", "local")


def write_atomically(path: UPath, dump: Callable[[IO[bytes]], Any]) -> None:
    """Write a file that readers see whole or not at all, never half-written.

    A writer killed or failing mid-write (kill -9, out of memory, a value that fails to
    serialize halfway) would otherwise leave a torn file at `path`, which every later reader
    (the serving app, a warm start) fails on. Locally the bytes go to a hidden temporary file
    in the same folder (same filesystem, so the rename is atomic; the leading dot keeps it out
    of the `<name>.*` globs of the serving registry), fsynced, then renamed over `path`. On an
    object store the value is serialized to a local temporary file first and uploaded with one
    `put_file`: S3 shows an object only once its PUT (or multipart upload) completes, whereas
    `fs.open("wb")` uploads whatever was buffered when an exception leaves its `with`.
    """
    if _is_local(path):
        target = Path(path.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with temporary.open("wb") as file:
                dump(file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return
    with tempfile.NamedTemporaryFile(prefix="ml-platform-upload-") as local:
        dump(local)
        local.flush()
        path.fs.put_file(local.name, path.path)


def publish_directory(source: Path, target: UPath, *, last: tuple[str, ...] = ()) -> None:
    """Copy a folder (a SavedModel version, say) to `target` so that a watcher polling the
    parent never loads it half-copied.

    Locally the copy goes to a hidden sibling folder first and is renamed into place (atomic on
    one filesystem; TF Serving ignores names that are not version numbers). An object store has
    no folders to rename, so the files named in `last` (the ones a loader needs before it
    starts, e.g. `saved_model.pb`) are uploaded after every other file, each with one PUT.
    """
    if _is_local(target):
        final = Path(target.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copytree(source, temporary)
            if final.exists():  # a re-materialized version replaces the old copy
                shutil.rmtree(final)
            os.replace(temporary, final)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        return
    files = sorted(p for p in source.rglob("*") if p.is_file())
    for file in sorted(files, key=lambda p: p.name in last):  # stable: `last` ones at the end
        destination = target / file.relative_to(source).as_posix()
        target.fs.put_file(str(file), destination.path)


@dataclass(frozen=True)
class _Format:
    extension: str
    accepts: Callable[[Any], bool]
    dump: Callable[[Any, IO[bytes]], None]
    load: Callable[[IO[bytes]], Any]


def _round_trips_as_json(obj: Any) -> bool:
    """JSON only when it gives back an equal value; tuples, int keys or numpy ints go to joblib instead."""
    if not isinstance(obj, dict | list):
        return False
    try:
        return json.loads(json.dumps(obj)) == obj
    except (TypeError, ValueError):
        return False


# Tried in this order on write (first that accepts) and on read (first file that exists).
# joblib (pickle) is the last resort: it is tied to library versions and unsafe to load from strangers.
_FORMATS = (
    _Format(
        ".parquet",
        lambda obj: isinstance(obj, pd.DataFrame) and all(isinstance(c, str) for c in obj.columns),
        lambda obj, file: obj.to_parquet(file),
        pd.read_parquet,
    ),
    _Format(
        ".npy",
        lambda obj: isinstance(obj, np.ndarray) and not obj.dtype.hasobject,
        lambda obj, file: np.save(file, obj, allow_pickle=False),
        lambda file: np.load(file, allow_pickle=False),
    ),
    _Format(
        ".json",
        _round_trips_as_json,
        lambda obj, file: file.write(json.dumps(obj).encode()),
        json.load,
    ),
    _Format(".joblib", lambda obj: True, joblib.dump, joblib.load),
)


def _format_of(obj: Any) -> _Format:
    return next(f for f in _FORMATS if f.accepts(obj))


def _with_extension(path: UPath, extension: str) -> UPath:
    # Not `with_suffix`: a partition key like "batch.1" would lose its ".1".
    return path.with_name(path.name + extension)


def _read_stored(path: UPath) -> Any:
    """The value stored at `path` in whichever format it was written."""
    for fmt in _FORMATS:
        candidate = _with_extension(path, fmt.extension)
        if candidate.exists():
            with candidate.open("rb") as file:
                return fmt.load(file)
    # FileNotFoundError is what UPathIOManager's `allow_missing_partitions` understands.
    extensions = "|".join(f.extension for f in _FORMATS)
    raise FileNotFoundError(f"No stored value at {path}({extensions})")


class _FilesByTypeIOManager(dg.UPathIOManager):
    """Picks the file format from the value's type on write and from the file found on read, so one
    IO manager serves tables, arrays, metrics and models alike."""

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        fmt = _format_of(obj)
        write_atomically(_with_extension(path, fmt.extension), lambda file: fmt.dump(obj, file))
        # A value whose type changed (e.g. a dict of metrics became a model) would otherwise be
        # shadowed on load by the older file of a format tried earlier.
        for other in _FORMATS:
            stale = _with_extension(path, other.extension)
            if other is not fmt and self.path_exists(stale):
                self.unlink(stale)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        return _read_stored(path)

    def get_metadata(self, context: dg.OutputContext, obj: Any) -> dict[str, dg.MetadataValue]:
        # Replaces the base class's "path", which lacks the extension chosen in dump_to_path.
        if context.has_asset_partitions:
            path = next(iter(self._get_paths_for_partitions(context).values()))
        else:
            path = self._get_path(context)
        metadata = {
            "path": dg.MetadataValue.path(str(_with_extension(path, _format_of(obj).extension)))
        }
        if isinstance(obj, pd.DataFrame):
            metadata["dagster/row_count"] = dg.MetadataValue.int(len(obj))
        return metadata


class ObjectStoreIOManager(dg.ConfigurableIOManagerFactory):
    """Asset values at `<base>/<asset key path>[/<partition>].<ext>`: DataFrames as Parquet, arrays as
    .npy, plain dicts/lists as JSON, anything else (models) with joblib. An unpartitioned asset that
    reads a partitioned one receives `{partition_key: value}`."""

    store: ObjectStore

    def create_io_manager(self, context: dg.InitResourceContext) -> dg.UPathIOManager:
        return _FilesByTypeIOManager(base_path=self.store.path())


def partition_values(loaded: Any) -> list[Any]:
    """Every partition's value as read by an unpartitioned asset from a partitioned one.

    Dagster's UPathIOManager hands over several partitions as `{partition_key: value}` but a lone
    partition as the bare value; the first batch of a product would otherwise break its consumers.
    Read such inputs with `dg.AssetIn(partition_mapping=..., dagster_type=dg.Any)`.
    """
    return list(loaded.values()) if isinstance(loaded, dict) else [loaded]
