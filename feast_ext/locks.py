"""A write lock shared by the threads of a process and by processes: a mutex, then an flock on a file.

SQLite serialises writers itself, but a writer that finds the database locked polls in its busy handler
with sleeps of up to 100 ms, so under load some wait far longer than the lock is held. Waiting here
first means SQLite's lock is free when a writer asks for it: threads queue on the mutex, processes
(several `feast serve` workers) on the flock, and the kernel wakes the next one as soon as it is released.
"""

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path


class WriteLock:
    """One per process and file (an flock belongs to its open file, which a forked child would share)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._mutex:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644), os.getpid()
        return self._fd
