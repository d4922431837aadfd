"""Part files on disk: their names, durable publication (fsync, rename, fsync) and streaming merges."""

import os
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
WRITE_TEMP_PREFIX = ".write-"
COMPACT_TEMP_PREFIX = ".compact-"
# Only names we write can be our leftovers; any other part file is adopted, never deleted.
OUR_PART_NAME = re.compile(r"part-\d{20}-L\d+-[0-9a-f]{12}\.parquet")
MERGE_BATCH_ROWS = 65_536


def is_leftover(name: str, live: set[str]) -> bool:
    """Called under the ledger lock, when no writer of this process or another is mid-write."""
    if name.startswith(WRITE_TEMP_PREFIX):
        return True
    if name.startswith(COMPACT_TEMP_PREFIX):
        return not pid_alive(int(name[len(COMPACT_TEMP_PREFIX):].split("-", 1)[0]))
    return OUR_PART_NAME.fullmatch(name) is not None and name not in live


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def merge_files(paths: Sequence[Path], target: Path) -> int:
    """Stream `paths` into one Parquet file at `target`, fsynced; returns its rows. Memory stays bounded."""
    schema = pq.read_schema(paths[0]).remove_metadata()
    rows = 0
    with pq.ParquetWriter(target, schema) as writer:
        for path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=MERGE_BATCH_ROWS):
                writer.write_table(pa.Table.from_batches([batch]).cast(schema))
                rows += batch.num_rows
    return rows


def publish(temp: Path, level: int) -> str:
    """fsync `temp`, rename it to a fresh part name and fsync the directory: durable once it returns."""
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    name = f"{PART_PREFIX}{time.time_ns():020d}-L{level}-{uuid.uuid4().hex[:12]}{PART_SUFFIX}"  # OUR_PART_NAME
    temp.replace(temp.with_name(name))
    fsync_directory(temp.parent)
    return name


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
