"""Append-only Parquet part directories kept by a SQLite ledger: exactly-once appends, tiered compaction.

Independent of Feast (feast_ext/offline.py adapts it). The ledger is the truth about what is live:
- `parts` lists each directory's live part files. A part file with our name pattern that the ledger
  does not list is an orphan (its writer died after the rename and before the commit, or a compaction
  died after its commit and before deleting its inputs) and the next writer deletes it. Any other part
  file (the bulk load, a file another tool wrote) is adopted as live, unless `retired` names it: the
  inputs of a merge, kept while a registered reader (`reading`) may have listed them, then removed by
  the next writer.
- `row_keys` holds the (scope, entity, event time) of every row appended in the dedupe window, so a
  retried append writes nothing twice, whatever batch it comes in and whichever process sends it.
Every append runs under `BEGIN IMMEDIATE`, which serialises writers across threads and processes.
"""

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contract.sqlite import use_wal
from feast_ext.locks import WriteLock
from feast_ext.part_files import (
    COMPACT_TEMP_PREFIX,
    PART_SUFFIX,
    WRITE_TEMP_PREFIX,
    is_leftover,
    merge_files,
    pid_alive,
    publish,
)

KEY_SEPARATOR = "\x1f"
PRUNE_EVERY_APPENDS = 256

SCHEMA = """
CREATE TABLE IF NOT EXISTS row_keys (
    scope TEXT NOT NULL, entity TEXT NOT NULL, event_us INTEGER NOT NULL, recorded_at REAL NOT NULL,
    PRIMARY KEY (scope, entity, event_us)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS row_keys_by_age ON row_keys (recorded_at);
CREATE TABLE IF NOT EXISTS parts (
    directory TEXT NOT NULL, name TEXT NOT NULL, level INTEGER NOT NULL, rows INTEGER NOT NULL,
    PRIMARY KEY (directory, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS directories (directory TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS readers (id TEXT PRIMARY KEY, pid INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS retired (
    directory TEXT NOT NULL, name TEXT NOT NULL, retired_at REAL NOT NULL,
    PRIMARY KEY (directory, name)) WITHOUT ROWID;
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LedgerSettings:
    path: Path
    dedupe_window_seconds: float = 86_400.0
    compaction_fanout: int = 8
    busy_timeout_ms: int = 60_000


@dataclass(frozen=True)
class AppendResult:
    rows_written: int
    part: str | None


@dataclass
class _Append:
    directory: Path
    scope: str
    table: pa.Table
    keys: list[tuple[str, int]]
    # Set by whichever thread writes it, before that thread wakes the waiting ones.
    result: AppendResult | None = None
    error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.result is not None or self.error is not None


class PartLedger:
    """One per process and ledger file (see `ledger_for`); thread-safe, one SQLite connection per thread."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self._threads = threading.local()
        self._lock = WriteLock(settings.path.with_name(settings.path.name + ".lock"))
        # Group commit (`append`): appends queued while another thread writes, and whether one is writing.
        self._queue = threading.Condition()
        self._queued: list[_Append] = []
        self._writing = False
        self._appends = 0
        self._compactor = BackgroundCompactor(self)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._threads, "conn", None)
        if conn is None:
            self.settings.path.parent.mkdir(parents=True, exist_ok=True)
            timeout = self.settings.busy_timeout_ms / 1000  # sqlite3's busy timeout, also for BEGIN IMMEDIATE
            conn = sqlite3.connect(self.settings.path, isolation_level=None, timeout=timeout)
            use_wal(conn)
            conn.execute("PRAGMA synchronous = FULL")
            conn.executescript(SCHEMA)
            self._threads.conn = conn
        return conn

    @contextlib.contextmanager
    def locked(self) -> Iterator[sqlite3.Connection]:
        """The ledger's write lock (feast_ext/locks.py, then SQLite's), held across processes until commit."""
        with self._lock.held(), self._transaction() as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def append(self, directory: Path, scope: str, table: pa.Table, *, key_columns: Sequence[str],
               timestamp_column: str) -> AppendResult:
        """Write the rows of `table` not appended before. Durable when it returns.

        Group commit: while one thread of this process writes, the appends of others queue; when it is done,
        one of them writes every queued append (one part per directory) in one transaction, so concurrent
        pushes share its fsyncs. A failed transaction fails each append in it.
        """
        request = _Append(directory, scope, table, row_keys(table, key_columns, timestamp_column))
        with self._queue:
            self._queued.append(request)
            while not request.answered:
                if self._writing:
                    self._queue.wait()
                    continue
                batch, self._queued, self._writing = self._queued, [], True
                self._queue.release()
                try:
                    self._write_batch(batch)
                finally:
                    self._queue.acquire()
                    self._writing = False
                    self._queue.notify_all()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _write_batch(self, batch: list["_Append"]) -> None:
        try:
            with self.locked() as conn:
                results = self._write_appends(conn, batch)
        except BaseException as error:
            for request in batch:
                request.error = error
            return
        for request, result in zip(batch, results, strict=True):
            request.result = result
        for directory in {request.directory for request, result in zip(batch, results, strict=True) if result.part}:
            self._compactor.request(directory)

    def _write_appends(self, conn: sqlite3.Connection, batch: list["_Append"]) -> list[AppendResult]:
        now = time.time()
        insert = "INSERT OR IGNORE INTO row_keys VALUES (?, ?, ?, ?)"
        fresh = [[index for index, key in enumerate(request.keys)
                  if conn.execute(insert, (request.scope, *key, now)).rowcount] for request in batch]
        parts: dict[Path, str | None] = {}
        for directory in dict.fromkeys(request.directory for request in batch):
            tables = [request.table.take(pa.array(rows, pa.int64())) for request, rows in zip(batch, fresh, strict=True)
                      if request.directory == directory]
            table = pa.concat_tables(tables)
            self._adopt_or_clean(conn, directory)
            parts[directory] = self._write_part(conn, directory, table) if table.num_rows else None
        self._maybe_prune(conn, now)
        return [AppendResult(rows_written=len(rows), part=parts[request.directory] if rows else None)
                for request, rows in zip(batch, fresh, strict=True)]

    def live_parts(self, directory: Path) -> list[Path] | None:
        """The directory's live part files, or None if the ledger has never managed it."""
        conn = self.connection()
        conn.execute("BEGIN")  # one read snapshot for both queries
        try:
            known = conn.execute("SELECT 1 FROM directories WHERE directory = ?", (str(directory),)).fetchone()
            names = conn.execute("SELECT name FROM parts WHERE directory = ? ORDER BY name", (str(directory),))
            parts = [directory / name for (name,) in names]
        finally:
            conn.execute("COMMIT")
        return parts if known else None

    def compact(self, directory: Path) -> int:
        """Merge parts, a level at a time, until no level holds `compaction_fanout` parts; returns merges."""
        with self.locked() as conn:
            self._adopt_or_clean(conn, directory)
        merges = 0
        while (chosen := self._choose_merge(directory)) is not None:
            merges += self._merge(directory, *chosen)  # False: another compactor merged first; choose again
        if merges:  # remove the merged-away inputs now (unless a reader is active), not at the next write
            with self.locked() as conn:
                self._adopt_or_clean(conn, directory)
        return merges

    def _write_part(self, conn: sqlite3.Connection, directory: Path, table: pa.Table) -> str:
        level = level_for(table.num_rows, self.settings.compaction_fanout)
        temp = directory / f"{WRITE_TEMP_PREFIX}{uuid.uuid4().hex}.tmp"
        pq.write_table(table, temp)
        name = publish(temp, level)
        conn.execute("INSERT INTO parts VALUES (?, ?, ?, ?)", (str(directory), name, level, table.num_rows))
        return name

    def _adopt_or_clean(self, conn: sqlite3.Connection, directory: Path) -> None:
        """Remove leftovers (ours, and parts merged away); adopt any other part file (the bulk load, say)."""
        directory.mkdir(parents=True, exist_ok=True)
        key = (str(directory),)
        first_sight = conn.execute("SELECT 1 FROM directories WHERE directory = ?", key).fetchone() is None
        if first_sight:
            conn.execute("INSERT INTO directories VALUES (?)", key)
        live = {name for (name,) in conn.execute("SELECT name FROM parts WHERE directory = ?", key)}
        retired = {name for (name,) in conn.execute("SELECT name FROM retired WHERE directory = ?", key)}
        reading = self._active_readers(conn)
        for path in sorted(directory.iterdir()):
            if path.name in retired:
                if not reading:
                    path.unlink()
            elif not first_sight and is_leftover(path.name, live):
                log.info("removing leftover %s", path)
                path.unlink(missing_ok=True)
            elif path.name.endswith(PART_SUFFIX) and not path.name.startswith((".", "_")) and path.name not in live:
                rows = pq.read_metadata(path).num_rows
                level = level_for(rows, self.settings.compaction_fanout)
                conn.execute("INSERT INTO parts VALUES (?, ?, ?, ?)", (str(directory), path.name, level, rows))
        if not reading:
            conn.execute("DELETE FROM retired WHERE directory = ?", key)

    @staticmethod
    def _active_readers(conn: sqlite3.Connection) -> bool:
        readers = conn.execute("SELECT id, pid FROM readers").fetchall()
        dead = [(reader,) for reader, pid in readers if not pid_alive(pid)]
        conn.executemany("DELETE FROM readers WHERE id = ?", dead)
        return len(dead) < len(readers)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Registers a reader: while any is active, merged-away parts stay on disk for what it listed."""
        reader = uuid.uuid4().hex
        with self.locked() as conn:
            conn.execute("INSERT INTO readers VALUES (?, ?)", (reader, os.getpid()))
        try:
            yield
        finally:
            with self.locked() as conn:
                conn.execute("DELETE FROM readers WHERE id = ?", (reader,))

    def _maybe_prune(self, conn: sqlite3.Connection, now: float) -> None:
        self._appends += 1
        if self._appends % PRUNE_EVERY_APPENDS == 0:
            conn.execute("DELETE FROM row_keys WHERE recorded_at < ?", (now - self.settings.dedupe_window_seconds,))

    def _choose_merge(self, directory: Path) -> tuple[int, list[str]] | None:
        rows = self.connection().execute(
            "SELECT level, name FROM parts WHERE directory = ? ORDER BY level, name", (str(directory),)
        ).fetchall()
        by_level: dict[int, list[str]] = {}
        for level, name in rows:
            by_level.setdefault(level, []).append(name)
        fanout = self.settings.compaction_fanout
        return next(((level, names) for level, names in by_level.items() if len(names) >= fanout), None)

    def _merge(self, directory: Path, level: int, names: list[str]) -> bool:
        """Write the merged part outside the lock, swap it in under the lock; False if another compactor won.

        The inputs are retired, not removed: the next writer removes them once no reader is active, so a
        reader that listed them can still read them (Feast's joins collapse the rows it then sees twice:
        same entity, same timestamp).
        """
        temp = directory / f"{COMPACT_TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.tmp"
        try:
            rows = merge_files([directory / name for name in names], temp)
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            if self._all_live(self.connection(), directory, names):
                raise  # a live part is missing: the ledger and the directory disagree
            return False  # another compactor merged (and removed) one of these parts first
        new_level = max(level + 1, level_for(rows, self.settings.compaction_fanout))
        with self.locked() as conn:
            if not self._all_live(conn, directory, names):
                temp.unlink(missing_ok=True)
                return False
            name = publish(temp, new_level)
            marks = ",".join("?" * len(names))
            conn.execute(f"DELETE FROM parts WHERE directory = ? AND name IN ({marks})", (str(directory), *names))
            now = time.time()
            conn.executemany("INSERT INTO retired VALUES (?, ?, ?)", [(str(directory), old, now) for old in names])
            conn.execute("INSERT INTO parts VALUES (?, ?, ?, ?)", (str(directory), name, new_level, rows))
        return True

    @staticmethod
    def _all_live(conn: sqlite3.Connection, directory: Path, names: list[str]) -> bool:
        marks = ",".join("?" * len(names))
        query = f"SELECT count(*) FROM parts WHERE directory = ? AND name IN ({marks})"
        return conn.execute(query, (str(directory), *names)).fetchone()[0] == len(names)


COMPACTION_PAUSE_SECONDS = 1.0


class BackgroundCompactor:
    """Compacts off the writers' critical path, in one lazily started daemon thread per process."""

    def __init__(self, ledger: PartLedger) -> None:
        self._ledger = ledger
        self._dirty: set[Path] = set()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def request(self, directory: Path) -> None:
        with self._wake:
            self._dirty.add(directory)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="offline-compactor", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: bool(self._dirty))
                directories, self._dirty = self._dirty, set()
            for directory in directories:
                try:
                    self._ledger.compact(directory)
                except Exception:  # the next append asks again; a failed merge leaves the old parts live
                    log.exception("compaction of %s failed", directory)
            # One pass per pause, however many appends asked: a pass after every push took a fifth of
            # feast serve's CPU under ingest load (merging a few tiny parts at a time, and its lock).
            time.sleep(COMPACTION_PAUSE_SECONDS)


_ledgers: dict[tuple[int, LedgerSettings], PartLedger] = {}
_ledgers_lock = threading.Lock()


def ledger_for(settings: LedgerSettings) -> PartLedger:
    """The process's ledger for these settings; keyed by pid so a forked worker never shares connections."""
    key = (os.getpid(), settings)
    with _ledgers_lock:
        if key not in _ledgers:
            _ledgers[key] = PartLedger(settings)
        return _ledgers[key]


def row_keys(table: pa.Table, key_columns: Sequence[str], timestamp_column: str) -> list[tuple[str, int]]:
    """(entity, event time in microseconds since the epoch) per row."""
    entities = zip(*(table.column(name).to_pylist() for name in key_columns), strict=True)
    micros = pc.cast(table.column(timestamp_column), pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
    return [(KEY_SEPARATOR.join(map(str, entity)), us) for entity, us in zip(entities, micros, strict=True)]


def level_for(rows: int, fanout: int) -> int:
    level = 0
    while rows >= fanout ** (level + 1):
        level += 1
    return level
