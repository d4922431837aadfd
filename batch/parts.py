"""Finished chunks of a batch run, kept beside the output so that an interrupted run can resume.

    <output>.parts/
      manifest.json         what the run is (input hash, version, artifact hash, chunk size, columns)
      part-000000.parquet   one per finished chunk, in input order

Every file here and the output itself is written under a temporary name, flushed and renamed into place,
so a killed run leaves either a whole file or none. Parts are always Parquet, whatever the output format:
the types survive the round trip, and the output is assembled from them once every chunk is done.
"""

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from batch.sources import BadInput

MANIFEST_FILE = "manifest.json"


def parts_dir(output: Path) -> Path:
    return output.with_name(f"{output.name}.parts")


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write through `write(handle)` to a temporary sibling, fsync it, then rename it over `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class ChunkParts:
    def __init__(self, output: Path) -> None:
        self.path = parts_dir(output)

    def start(self, manifest: dict[str, Any], *, resume: bool) -> int:
        """Return how many chunks are already finished: 0 unless resuming a run with this very manifest."""
        if resume and self.path.exists():
            self._check_manifest(manifest)
            return self.finished()
        shutil.rmtree(self.path, ignore_errors=True)  # a fresh run never mixes in an older run's parts
        self.path.mkdir(parents=True)
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_atomically(self.path / MANIFEST_FILE, lambda handle: handle.write(text.encode()))
        return 0

    def _check_manifest(self, manifest: dict[str, Any]) -> None:
        try:
            recorded = json.loads((self.path / MANIFEST_FILE).read_text())
        except (OSError, ValueError):
            message = f"cannot resume: {self.path} has no readable {MANIFEST_FILE}; run without --resume"
            raise BadInput(message) from None
        differing = sorted(key for key in manifest.keys() | recorded.keys() if manifest.get(key) != recorded.get(key))
        if differing:
            raise BadInput(
                f"cannot resume: {self.path} belongs to a run with a different {', '.join(differing)}; "
                "run without --resume to start over"
            )

    def part(self, index: int) -> Path:
        return self.path / f"part-{index:06d}.parquet"

    def finished(self) -> int:
        """Chunks are written in order, so the finished ones are the unbroken run of parts from 0."""
        count = 0
        while self.part(count).exists():
            count += 1
        return count

    def write(self, index: int, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        write_atomically(self.part(index), lambda handle: pq.write_table(table, handle))

    def assemble(self, output: Path, output_format: str, *, n_chunks: int, empty: pd.DataFrame) -> None:
        """Write parts 0..n_chunks-1 as one output file (or `empty` when there are none), then drop the parts."""
        tables = (pq.read_table(self.part(index)) for index in range(n_chunks))
        first = next(tables, None) or pa.Table.from_pandas(empty, preserve_index=False)
        # Arrow's CSV writer (a C++ loop, ~10x pandas' to_csv) writes floats in their shortest round-trip form.
        writer_class = pacsv.CSVWriter if output_format == "csv" else pq.ParquetWriter
        write_atomically(output, lambda handle: _write_tables(writer_class(handle, first.schema), first, tables))
        shutil.rmtree(self.path)


def _write_tables(writer: Any, first: pa.Table, rest: Iterator[pa.Table]) -> None:
    with writer:
        writer.write_table(first)
        for table in rest:
            writer.write_table(table.cast(first.schema))
