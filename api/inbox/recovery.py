"""Completes the feature pushes still owed: the 202 answers, and whatever a crashed worker left.

Every inbox worker runs one loop. It reads user-data's pending records older than `min_age` (so
it leaves the requests still in flight alone), computes features for those stored without them,
pushes them in one call and clears them. Several workers may pick the same record: a second push
of a row changes nothing (upstreams.py), so no claim is needed. A message model serving rejects for
good (4xx) is logged, counted and cleared, since no retry can succeed.
"""

import asyncio
import logging
from collections.abc import Sequence
from uuid import UUID

from api.common.errors import DomainError
from api.common.ids import uuid_datetime
from api.inbox.metrics import DROPPED, RECOVERED, RECOVERY_RUNS
from api.inbox.settings import InboxSettings
from api.inbox.upstreams import FeatureRow, PendingSms, RejectedByUpstream, Upstreams

logger = logging.getLogger(__name__)


class PendingRecovery:
    def __init__(self, upstreams: Upstreams, settings: InboxSettings) -> None:
        self.upstreams = upstreams
        self.interval = settings.recovery_interval_seconds
        self.min_age = settings.recovery_min_age_seconds
        self.batch_size = settings.recovery_batch_size
        self.max_backoff = settings.recovery_max_backoff_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pending-recovery")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = self.interval
        while True:
            try:
                done = await self.recover_once()
            except DomainError as exc:
                RECOVERY_RUNS.labels("failure").inc()
                logger.info("pending recovery failed; will retry", extra={"error": exc.detail})
                delay = min(delay * 2, self.max_backoff)
            else:
                RECOVERY_RUNS.labels("success").inc()
                delay = self.interval
                if done == self.batch_size:
                    continue  # more may be waiting
            await asyncio.sleep(delay)

    async def recover_once(self) -> int:
        """Push and clear one batch of pending records; returns how many it found."""
        items = await self.upstreams.pending(limit=self.batch_size, older_than_seconds=self.min_age)
        if not items:
            return 0
        rows, rejected = await self._rows(items)
        if rows:
            await self.upstreams.push(rows)
        await self.upstreams.clear_pending([row.sms_id for row in rows] + rejected)
        RECOVERED.inc(len(rows))
        logger.info("pending pushes completed", extra={"rows": len(rows), "dropped": len(rejected)})
        return len(items)

    async def _rows(self, items: Sequence[PendingSms]) -> tuple[list[FeatureRow], list[str]]:
        features = {item.sms_id: item.features for item in items}
        missing = [item for item in items if item.features is None]
        if missing:
            features.update(await self._features(missing))
        rejected = [str(sms_id) for sms_id, vector in features.items() if vector is None]
        rows = [FeatureRow(str(sms_id), uuid_datetime(sms_id), vector)
                for sms_id, vector in features.items() if vector is not None]
        return rows, rejected

    async def _features(self, items: Sequence[PendingSms]) -> dict[UUID, list[int] | None]:
        try:
            vectors = await self.upstreams.text_to_features([item.sms_text for item in items])
            return {item.sms_id: vector for item, vector in zip(items, vectors, strict=True)}
        except RejectedByUpstream:
            if len(items) == 1:
                DROPPED.inc()
                logger.error("model serving rejects a pending message; dropped", extra={"sms_id": str(items[0].sms_id)})
                return {items[0].sms_id: None}
        # One bad text must not hold the others back: ask for each alone.
        found: dict[UUID, list[int] | None] = {}
        for item in items:
            found.update(await self._features([item]))
        return found
