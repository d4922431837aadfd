"""contract.sqlite: processes that open a new database together all get it in WAL mode."""

import multiprocessing
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path

from contract.sqlite import use_wal

OPENERS, TRIES = 4, 30  # the plain PRAGMA failed 5 times in 30 tries of 4 processes


def _open(path: str, together: Barrier, answers: "multiprocessing.Queue[str]") -> None:
    together.wait()
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        use_wal(conn)
        answers.put(conn.execute("PRAGMA journal_mode").fetchone()[0])
    except sqlite3.Error as exc:
        answers.put(repr(exc))


def test_processes_opening_a_new_database_at_once_all_switch_it_to_wal(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    answers: list[str] = []
    for attempt in range(TRIES):
        together, queue = context.Barrier(OPENERS), context.Queue()
        openers = [context.Process(target=_open, args=(str(tmp_path / f"{attempt}.db"), together, queue))
                   for _ in range(OPENERS)]
        for opener in openers:
            opener.start()
        answers += [queue.get(timeout=30) for _ in openers]
        for opener in openers:
            opener.join(timeout=30)
    assert answers == ["wal"] * (OPENERS * TRIES)
