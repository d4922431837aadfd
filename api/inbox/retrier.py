"""In-process retry queue for feature pushes that failed in the request path (the 202 answers).

One background task drains the queue in batches (one `/push` for many rows, through the same
PushBatcher as the request path, so pushes never overlap), with exponential
backoff between failed attempts, capped at `max_delay`, and retrying until success; each attempt
has the shared client's timeouts. After a successful push the rows go to the offline appender, so
each message's offline row is written exactly once, by whoever pushed it (request path or here).

The queue lives in memory: messages still queued at shutdown are logged by id (they are stored in
user-data, and `scripts/backfill_features.py USER...` pushes whatever has no features online).
"""

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from api.common.errors import DomainError
from api.common.offline_append import FeatureRow, OfflineAppender
from api.inbox.metrics import DROPPED, PUSHED_FROM_QUEUE, QUEUE_DEPTH, RETRIES
from api.inbox.push_batcher import PushBatcher
from api.inbox.upstreams import RejectedByUpstream, Upstreams

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PendingPush:
    sms_id: str
    sms_text: str
    event_timestamp: datetime
    features: list[int] | None = None  # None until model serving answered

    def row(self) -> FeatureRow:
        assert self.features is not None
        return FeatureRow(self.sms_id, self.event_timestamp, self.features)


class PushRetrier:
    def __init__(self, upstreams: Upstreams, batcher: PushBatcher, appender: OfflineAppender, *,
                 initial_delay: float, max_delay: float, batch_size: int) -> None:
        self.upstreams = upstreams
        self.batcher = batcher
        self.appender = appender
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.batch_size = batch_size
        self._queue: deque[PendingPush] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, item: PendingPush) -> None:
        self._queue.append(item)
        QUEUE_DEPTH.set(len(self._queue))
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="push-retrier")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._queue:
            logger.warning("shutting down with unpushed messages; run scripts/backfill_features.py for them",
                           extra={"sms_ids": [item.sms_id for item in self._queue]})

    async def _run(self) -> None:
        delay = self.initial_delay
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            if await self.attempt():
                delay = self.initial_delay
            else:
                # Full jitter keeps several inbox workers from retrying in lock-step.
                await asyncio.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, self.max_delay)

    async def attempt(self) -> bool:
        """Push one batch from the head of the queue; True when it went through."""
        batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
        try:
            batch = await self._with_features(batch)
            if batch:
                await self.batcher.push([item.row() for item in batch])
        except DomainError as exc:
            self._queue.extendleft(reversed(batch))  # back to the head, order kept
            QUEUE_DEPTH.set(len(self._queue))
            RETRIES.labels("failure").inc()
            logger.info("queued push failed; will retry", extra={"error": exc.detail, "queued": len(self._queue)})
            return False
        self.appender.append([item.row() for item in batch])
        QUEUE_DEPTH.set(len(self._queue))
        RETRIES.labels("success").inc()
        PUSHED_FROM_QUEUE.inc(len(batch))
        return True

    async def _with_features(self, batch: list[PendingPush]) -> list[PendingPush]:
        """Fill in missing features; drop (and log) messages model serving rejects for good."""
        kept = []
        for item in batch:
            if item.features is None:
                try:
                    item.features = await self.upstreams.text_to_features(item.sms_text)
                except RejectedByUpstream as exc:
                    DROPPED.inc()
                    logger.error("model serving rejects a queued message; dropped",
                                 extra={"sms_id": item.sms_id, "error": exc.detail})
                    continue
            kept.append(item)
        return kept
