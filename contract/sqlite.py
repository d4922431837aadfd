"""How every SQLite database of the project is put in WAL mode: the journal mode is a property of the file,
which several processes open (model serving's workers, `feast serve`'s threads and the inbox's offline writes).

On a new file, two connections switching it to WAL at once can both hold its read lock while each waits for
the other's, and SQLite then answers one "database is locked" at once, without waiting out the busy timeout
(4 processes opening a new file together: 5 such failures in 30 tries, tests/contract/test_sqlite.py). Two
model-serving workers starting on a new database failed that way. The switch is idempotent, so it is retried.
"""

import sqlite3

from tenacity import retry, retry_if_exception, stop_after_delay, wait_random


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


@retry(retry=retry_if_exception(_locked), stop=stop_after_delay(10), wait=wait_random(0.005, 0.05), reraise=True)
def use_wal(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
