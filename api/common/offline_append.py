"""Append v2 feature rows to the offline source as new Parquet part files (DESIGN §7, §10).

Feast's offline push to a file source rereads and rewrites the whole file without a lock, so
concurrent pushes lose rows. Here every flush writes a NEW uniquely named part
(`part-<timeuuid>.parquet`) into the source directory, atomically: the table is written under a
hidden temporary name (`.part-<id>.parquet.tmp`, which both pyarrow and Dask skip) and renamed into
place. No file is ever rewritten, so concurrent writers (several inbox workers, the backfill) are safe.

Rows are buffered and flushed by a daemon thread every `flush_interval` seconds, as soon as
`max_rows` are waiting, on `flush()` and on `close()`. A failed write keeps its rows for the next flush.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from api.common.ids import time_uuid
from training.offline_sources import TIMESTAMP_FIELD, V2_FIELD, V2_SCHEMA, V2_SOURCE_PATH
from training.versions import ENTITY_KEY

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeatureRow:
    sms_id: str
    event_timestamp: datetime  # timezone-aware UTC; stored at microsecond precision
    features: Sequence[int]


def v2_source_dir(feature_repo: Path) -> Path:
    """Where the v2 part files live inside a feature repository."""
    return feature_repo / V2_SOURCE_PATH


def write_part(directory: Path, rows: Sequence[FeatureRow]) -> Path:
    """Write `rows` as one new part file with exactly V2_SCHEMA; atomic (hidden temp name, then rename)."""
    table = pa.Table.from_pydict(
        {
            ENTITY_KEY: [row.sms_id for row in rows],
            TIMESTAMP_FIELD: [row.event_timestamp.astimezone(UTC) for row in rows],
            V2_FIELD: [[int(value) for value in row.features] for row in rows],
        },
        schema=V2_SCHEMA,
    )
    return _write_new_part(directory, table)


def _write_new_part(directory: Path, table: pa.Table) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"part-{time_uuid()}.parquet"
    tmp = directory / f".{name}.tmp"
    pq.write_table(table, tmp)
    final = directory / name
    tmp.rename(final)  # same directory, same filesystem: atomic, and the name is new
    return final


@dataclass(frozen=True)
class Compaction:
    parts_merged: int
    rows: int
    merged_into: Path | None


def compact_parts(
    directory: Path, *, min_age_seconds: float, progress: Callable[[Path], None] | None = None
) -> Compaction:
    """Merge the part files older than `min_age_seconds` into one new part, then delete them.

    Feast reads every part on each retrieval and materialization, so parts must not pile up. The merged
    part is written (atomically) before any original is deleted: a reader sees each row at least once,
    and a row seen twice has the same entity and timestamp, which Feast's point-in-time join collapses.
    A reader that listed a deleted part before the delete fails and must retry, so run this when no
    training or materialization is reading the source.
    """
    cutoff = time.time() - min_age_seconds
    parts = sorted(path for path in directory.glob("part-*.parquet") if path.stat().st_mtime <= cutoff)
    if len(parts) < 2:
        return Compaction(parts_merged=0, rows=0, merged_into=None)
    tables = []
    for path in parts:
        tables.append(pq.read_table(path, schema=V2_SCHEMA))
        if progress is not None:
            progress(path)
    merged = _write_new_part(directory, pa.concat_tables(tables))
    for path in parts:
        path.unlink()
    return Compaction(parts_merged=len(parts), rows=sum(t.num_rows for t in tables), merged_into=merged)


class OfflineAppender:
    """Thread-safe buffered appender; one per process (created in a lifespan or a script)."""

    def __init__(self, directory: Path, *, flush_interval: float = 0.5, max_rows: int = 1000) -> None:
        self.directory = directory
        self.flush_interval = flush_interval
        self.max_rows = max_rows
        self.rows_written = 0
        self._pending: list[FeatureRow] = []
        self._lock = threading.Lock()  # guards _pending
        self._write_lock = threading.Lock()  # one flush at a time keeps rows in order of arrival
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "OfflineAppender":
        self._thread = threading.Thread(target=self._run, name="offline-appender", daemon=True)
        self._thread.start()
        return self

    def append(self, rows: Sequence[FeatureRow]) -> None:
        """Non-blocking: buffer the rows; the flusher thread writes them."""
        with self._lock:
            self._pending.extend(rows)
            full = len(self._pending) >= self.max_rows
        if full:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write everything buffered so far as one part; returns the number of rows written."""
        with self._write_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return 0
            try:
                path = write_part(self.directory, rows)
            except Exception:
                with self._lock:  # keep them, in order, for the next attempt
                    self._pending[:0] = rows
                raise
            self.rows_written += len(rows)
            logger.debug("offline part written", extra={"path": str(path), "rows": len(rows)})
            return len(rows)

    def close(self) -> None:
        """Stop the flusher and write what is left."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                logger.exception("offline append failed; rows kept for the next flush")
