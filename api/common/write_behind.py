"""A write-behind queue: one daemon thread runs queued writes in order, off the request path.

Routes hand it work on the event loop, which costs a queue put instead of a thread-pool hop
per request; the thread also keeps storage writes from competing
with predictions for pool threads. Failures are logged and counted, never raised to a request.
"""

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from api.common.metrics import BACKGROUND_FAILURES

logger = logging.getLogger(__name__)
_STOP = object()


class WriteBehind:
    def __init__(self, name: str, *, max_pending: int = 50_000) -> None:
        self.name = name
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
        """Block until every write submitted so far has run (read-your-writes within this process)."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                task, func, args = item
                try:
                    func(*args)
                except Exception:
                    BACKGROUND_FAILURES.labels(task).inc()
                    logger.exception("background write failed", extra={"task": task})
            finally:
                self._queue.task_done()
