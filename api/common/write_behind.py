"""A write-behind queue: one daemon thread runs queued writes in order, off the request path.

Routes hand it work on the event loop, which costs a queue put instead of a thread-pool hop
per request; the thread also keeps storage writes from competing with predictions for pool
threads. It takes what has queued up as one batch inside `batch()` (one SQLite transaction; see
`Backend.write_batch`), then lingers briefly so that the next writes gather instead of waking it
one by one. Failures are logged and counted, never raised to a request.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from api.common.metrics import BACKGROUND_FAILURES

logger = logging.getLogger(__name__)
_STOP = object()
Write = tuple[str, Callable[..., object], tuple[Any, ...]]


class WriteBehind:
    def __init__(
        self,
        name: str,
        *,
        batch: Callable[[], AbstractContextManager[object]] = nullcontext,
        max_batch: int = 64,
        max_pending: int = 50_000,
        linger_seconds: float = 0.01,
    ) -> None:
        self.name = name
        self.batch = batch
        # Bounds how long one batch holds the store (SQLite's lock: ~2 ms for 64 writes), during which
        # a request's persisted-cache lookup waits; commits are already amortised at this size.
        self.max_batch = max_batch
        # At 1,000 req/s a wake-up per write was ~6% of the event loop's time; 10 ms of delay costs nothing.
        self.linger_seconds = linger_seconds
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name=f"write-behind-{name}", daemon=True)
        self._thread.start()

    def submit(self, task: str, func: Callable[..., object], *args: Any) -> None:
        """Non-blocking. When storage falls this far behind, drop the write rather than the request."""
        try:
            self._queue.put_nowait((task, func, args))
        except queue.Full:
            BACKGROUND_FAILURES.labels(f"{task}_dropped").inc()
            logger.warning("write-behind queue full; dropped a write", extra={"task": task})

    def flush(self) -> None:
        """Block until every write submitted so far has run (read-your-writes within this process).
        Takes up to `linger_seconds` longer than the writes themselves."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            items = self._take()
            writes = [item for item in items if item is not _STOP]
            try:
                if writes:
                    self._write(writes)
            finally:
                for _ in items:
                    self._queue.task_done()
            if len(writes) < len(items):
                return
            if self._queue.empty():
                time.sleep(self.linger_seconds)

    def _take(self) -> list[Any]:
        """Block for one item, then take whatever else is queued, up to max_batch."""
        items = [self._queue.get()]
        while len(items) < self.max_batch and items[-1] is not _STOP:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _write(self, writes: list[Write]) -> None:
        try:
            with self.batch():
                for task, func, args in writes:
                    try:
                        func(*args)
                    except Exception:
                        BACKGROUND_FAILURES.labels(task).inc()
                        logger.exception("background write failed", extra={"task": task})
        except Exception:  # the batch itself failed (a commit): every write in it is lost
            for task, _, _ in writes:
                BACKGROUND_FAILURES.labels(task).inc()
            logger.exception("background write batch failed", extra={"writes": len(writes)})
