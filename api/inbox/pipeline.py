"""What `POST /sms` does, in two stages, each shared by the concurrent messages of one worker.

1. Store (`_ingest`): one call to user-data stores the batch, each message together with its pending
   push and its idempotency key, atomically, so from here on the push is owed durably; the v2 features for
   every text come from model serving in one call made at the same time. The store must succeed or every
   request of the batch fails (502/503) and nothing was stored: the caller may retry.
2. Push (`_pushes`): the rows owed go to `feast serve` (`online_and_offline`) in as few pushes as possible:
   one push in flight per worker, carrying every row that became ready meanwhile (a push's fixed cost in
   Feast is ~10 ms, each extra row ~0.15 ms). When it answers 200 the features are online and the offline
   row is durable: 201. Otherwise 202: `PendingRecovery` (every worker runs one) completes the push later.
   The pending records of pushed rows are cleared after the answer; if that is lost, recovery pushes them
   again, which is harmless (upstreams.py).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.common.batching import MicroBatcher
from api.common.errors import DomainError, InvalidInput
from api.common.ids import time_uuid, uuid_datetime
from api.inbox.metrics import BATCH_SIZE, MESSAGES, PUSH_SIZE
from api.inbox.schemas import InboxSms
from api.inbox.settings import InboxSettings
from api.inbox.upstreams import FeatureRow, NewSms, Stored, Upstreams

logger = logging.getLogger(__name__)


class IdempotencyKeyReused(InvalidInput):
    """The Idempotency-Key was first used for a different message (IETF httpapi draft: 422)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    sms: InboxSms
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    sms_id: str
    pushed: bool  # False: stored, the push is pending (202)
    reason: str


@dataclass(frozen=True, slots=True)
class _Stored:
    stored: Stored
    features: list[int] | None


class InboxPipeline:
    def __init__(self, upstreams: Upstreams, settings: InboxSettings) -> None:
        self.upstreams = upstreams
        self.push_attempts = settings.push_attempts
        self._ingest = MicroBatcher(self._store_batch, max_batch=settings.ingest_batch_max,
                                    max_in_flight=settings.ingest_batches_in_flight)
        self._pushes = MicroBatcher(self._push_batch, max_batch=settings.push_batch_max, max_in_flight=1)
        # Clears are off the answer's path and coalesce across batches.
        self._clears = MicroBatcher(self._clear_batch, max_batch=1000, max_in_flight=1)

    async def receive(self, incoming: Incoming) -> Outcome:
        item = await self._ingest.submit(incoming)
        pushed = True
        if item.stored.pending and item.features is not None:
            row = FeatureRow(str(item.stored.sms_id), uuid_datetime(item.stored.sms_id), item.features)
            pushed = await self._pushes.submit(row)
            if pushed:
                self._clears.submit_nowait(row.sms_id)
        return self._outcome(item, pushed)

    async def close(self) -> None:
        for batcher in (self._ingest, self._pushes, self._clears):
            await batcher.close()

    async def _store_batch(self, batch: list[Incoming]) -> list[_Stored | Exception]:
        BATCH_SIZE.observe(len(batch))
        new = [NewSms(item.sms.recipient_id, time_uuid(), item.sms.sender_id, item.sms.sms_text,
                      item.idempotency_key, None) for item in batch]
        features, stored = await asyncio.gather(self._features([n.sms_text for n in new]), self._store(new))
        return [_Stored(s, f) for s, f in zip(stored, features, strict=True)]

    async def _store(self, new: list[NewSms]) -> list[Stored]:
        try:
            return await self.upstreams.store(new)
        except DomainError:
            MESSAGES.labels("rejected").inc(len(new))
            raise

    async def _features(self, texts: Sequence[str]) -> list[list[int] | None]:
        try:
            return list(await self.upstreams.text_to_features(texts))
        except DomainError as exc:
            logger.warning("features unavailable; messages stored with the push pending", extra={"error": exc.detail})
            return [None] * len(texts)

    async def _push_batch(self, rows: list[FeatureRow]) -> list[bool]:
        PUSH_SIZE.observe(len(rows))
        try:
            await self.upstreams.push(rows, attempts=self.push_attempts)
        except DomainError as exc:
            logger.warning("feature push failed; left pending", extra={"rows": len(rows), "error": exc.detail})
            return [False] * len(rows)
        return [True] * len(rows)

    def _outcome(self, item: _Stored, pushed: bool) -> Outcome:
        if item.stored.status == "key_conflict":
            MESSAGES.labels("rejected").inc()
            raise IdempotencyKeyReused("Idempotency-Key was already used for a different message")
        sms_id = str(item.stored.sms_id)
        replay = "replayed; " if item.stored.status == "replayed" else ""
        if not item.stored.pending or (pushed and item.features is not None):
            MESSAGES.labels("pushed").inc()
            return Outcome(sms_id, pushed=True, reason=f"{replay}stored and features pushed")
        MESSAGES.labels("queued").inc()
        return Outcome(sms_id, pushed=False, reason=f"{replay}stored; feature push pending")

    async def _clear_batch(self, sms_ids: list[str]) -> list[Exception | None]:
        try:
            await self.upstreams.clear_pending(sms_ids)
        except DomainError as exc:  # recovery will push these again and clear them then
            logger.info("pending records not cleared", extra={"rows": len(sms_ids), "error": exc.detail})
        return [None] * len(sms_ids)

