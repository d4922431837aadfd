"""Per caller and version rate limits over a sliding window, held across a service's workers.

The request path never touches storage: each worker counts what it admits in time buckets, and a
background thread syncs every `sync_seconds` (writes its own counts, reads everyone's). Between syncs
a worker may admit only its share of what was left at the last one, (limit - counted) / (2 x workers).
A worker's view of the others is up to one interval old, so shares of 1/workers could add up to more
than what was left (measured: 8 % over); half shares keep the sum under it and still converge, since
each sync hands out half of what remains. A lone worker sees every count at once and takes it all.
"""

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from api.common.serve import WORKERS_ENV
from api.common.storage import RateCounts

logger = logging.getLogger(__name__)
BUCKETS_PER_WINDOW = 20
Key = tuple[str, str]  # (caller, version)


@dataclass(slots=True)
class _State:
    limit: int
    own: dict[int, int] = field(default_factory=dict)  # bucket (ms) -> requests this worker admitted
    others: dict[int, int] = field(default_factory=dict)  # bucket -> other workers' counts, at the last sync
    allowance: float = 0.0  # what this worker may admit until the next sync
    since_sync: int = 0
    dirty: set[int] = field(default_factory=set)


class RateLimiter:
    def __init__(
        self,
        store: RateCounts,
        *,
        window_seconds: float,
        sync_seconds: float,
        workers: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.window_ms = int(window_seconds * 1000)
        self.bucket_ms = max(1, self.window_ms // BUCKETS_PER_WINDOW)
        self.sync_seconds = sync_seconds
        self.workers = workers or int(os.environ.get(WORKERS_ENV, "1"))
        self.shares = 1 if self.workers == 1 else 2 * self.workers
        self.clock = clock
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._states: dict[Key, _State] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rate-limit-sync", daemon=True)
        self._thread.start()

    def admit(self, caller: str, version: str, limit: int) -> float | None:
        """Non-blocking. None if admitted (and counted), else seconds until a retry may succeed."""
        now_ms = int(self.clock() * 1000)
        bucket = now_ms - now_ms % self.bucket_ms
        start = now_ms - self.window_ms
        with self._lock:
            state = self._states.get((caller, version))
            if state is None:
                state = self._states[(caller, version)] = _State(limit, allowance=limit / self.shares)
            own = sum(n for b, n in state.own.items() if b > start)
            others = sum(n for b, n in state.others.items() if b > start)
            if own + others >= limit:
                oldest = min([b for b, n in state.own.items() if b > start and n]
                             + [b for b, n in state.others.items() if b > start and n])
                return max(1.0, math.ceil((oldest + self.window_ms - now_ms) / 1000))
            if state.since_sync >= state.allowance:
                return max(1.0, math.ceil(self.sync_seconds))
            state.own[bucket] = state.own.get(bucket, 0) + 1
            state.since_sync += 1
            state.dirty.add(bucket)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.sync_seconds):
            try:
                self.sync()
            except Exception:  # storage down: keep counting locally, retry next interval
                logger.exception("rate-limit sync failed")

    def sync(self) -> None:
        """Write this worker's changed buckets and read everyone's, for every key with recent traffic."""
        start = int(self.clock() * 1000) - self.window_ms
        ttl = max(1, math.ceil(2 * self.window_ms / 1000))
        with self._lock:
            snapshot = {key: (dict(state.own), set(state.dirty), sum(state.own.values()))
                        for key, state in self._states.items()}
            for state in self._states.values():
                state.dirty.clear()
        for (caller, version), (own, dirty, own_total) in snapshot.items():
            changed = {b: own[b] for b in dirty}
            if changed:
                self.store.put(caller, version, self.worker, changed, ttl_seconds=ttl)
            rows = self.store.read(caller, version, since_bucket=start - self.bucket_ms)
            others: dict[int, int] = {}
            for row in rows:
                if row.worker != self.worker:
                    others[row.bucket] = others.get(row.bucket, 0) + row.count
            self._update(caller, version, others, own_total, start)

    def _update(self, caller: str, version: str, others: dict[int, int], own_total: int, start: int) -> None:
        with self._lock:
            state = self._states[(caller, version)]
            state.others = others
            state.since_sync = sum(state.own.values()) - own_total  # admitted while this sync ran
            counted = sum(n for b, n in state.own.items() if b > start) - state.since_sync
            counted += sum(n for b, n in others.items() if b > start)
            state.allowance = max(0.0, state.limit - counted) / self.shares
            state.own = {b: n for b, n in state.own.items() if b > start - self.bucket_ms}
            if not state.own and not others and not state.dirty:
                del self._states[(caller, version)]  # idle: forget it
