"""What `POST /sms` does. Concurrent messages of one worker go together as one batch, and each batch
makes three calls: features (model serving), store (user-data), push (`feast serve`).

1. Features for every text in one call. If model serving fails, the batch is stored without them.
2. Store in one call: each message is written together with its pending push (and its
   idempotency key), atomically, so from here on the push is owed durably. This must succeed or
   every request of the batch fails (502/503) and nothing was stored: the caller may retry.
3. Push the rows owed (`online_and_offline`). When `feast serve` answers 200 the features are online
   and the offline row is durable: 201. Otherwise 202: `PendingRecovery` (every worker runs one)
   completes the push later. The pending records of pushed rows are cleared after the answer;
   if that is lost, recovery pushes them again, which is harmless (upstreams.py).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.common.batching import MicroBatcher
from api.common.errors import DomainError, InvalidInput
from api.common.ids import time_uuid, uuid_datetime
from api.inbox.metrics import BATCH_SIZE, MESSAGES
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


class InboxPipeline:
    def __init__(self, upstreams: Upstreams, settings: InboxSettings) -> None:
        self.upstreams = upstreams
        self.push_attempts = settings.push_attempts
        self._ingest = MicroBatcher(self._receive_batch, max_batch=settings.ingest_batch_max,
                                    max_in_flight=settings.ingest_batches_in_flight)
        # Clears are off the answer's path and coalesce across batches.
        self._clears = MicroBatcher(self._clear_batch, max_batch=1000, max_in_flight=1)

    async def receive(self, incoming: Incoming) -> Outcome:
        return await self._ingest.submit(incoming)

    async def close(self) -> None:
        await self._ingest.close()
        await self._clears.close()

    async def _receive_batch(self, batch: list[Incoming]) -> list[Outcome | Exception]:
        BATCH_SIZE.observe(len(batch))
        features = await self._features([item.sms.sms_text for item in batch])
        new = [NewSms(item.sms.recipient_id, time_uuid(), item.sms.sender_id, item.sms.sms_text,
                      item.idempotency_key, vector) for item, vector in zip(batch, features, strict=True)]
        try:
            stored = await self.upstreams.store(new)
        except DomainError:
            MESSAGES.labels("rejected").inc(len(batch))
            raise
        owed = [FeatureRow(str(s.sms_id), uuid_datetime(s.sms_id), n.features)
                for n, s in zip(new, stored, strict=True) if s.pending and n.features is not None]
        pushed = await self._push(owed)
        if pushed and owed:
            for row in owed:
                self._clears.submit_nowait(row.sms_id)
        return [self._outcome(n, s, pushed) for n, s in zip(new, stored, strict=True)]

    async def _features(self, texts: Sequence[str]) -> list[list[int] | None]:
        try:
            return list(await self.upstreams.text_to_features(texts))
        except DomainError as exc:
            logger.warning("features unavailable; messages stored with the push pending", extra={"error": exc.detail})
            return [None] * len(texts)

    async def _push(self, rows: list[FeatureRow]) -> bool:
        if not rows:
            return True
        try:
            await self.upstreams.push(rows, attempts=self.push_attempts)
        except DomainError as exc:
            logger.warning("feature push failed; left pending", extra={"rows": len(rows), "error": exc.detail})
            return False
        return True

    def _outcome(self, new: NewSms, stored: Stored, pushed: bool) -> Outcome | Exception:
        if stored.status == "key_conflict":
            MESSAGES.labels("rejected").inc()
            return IdempotencyKeyReused("Idempotency-Key was already used for a different message")
        sms_id = str(stored.sms_id)
        replay = "replayed; " if stored.status == "replayed" else ""
        if not stored.pending or (pushed and new.features is not None):
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

