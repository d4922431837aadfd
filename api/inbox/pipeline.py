"""What `POST /sms` does, in two stages, each shared by the concurrent messages of all the workers.

1. Store and push online (`_ingest`): where workers share batches (`peers`), a worker's batch first goes to
   the leading worker, which runs its items in its own batches, so two workers make batches as large as one
   does; whatever it does not answer runs here. For the items run here, one call to user-data stores the
   batch, each message together with its pending push and its idempotency key, atomically, so from here on
   the push is owed durably; the v2 features for every text come from model serving in one call made at
   the same time. The store must succeed or every request of the batch fails (502/503) and nothing was
   stored: the caller may retry.
   Then one push takes the batch's rows to `feast serve` (`to: online`; a push's fixed cost in Feast is
   ~6 ms of CPU, each extra row ~0.1 ms). When it answers 200 the features are online and the pending
   record in user-data is the offline row's durable record: 201. Otherwise 202: `PendingRecovery` (every
   worker runs one) completes the push later. Up to `ingest_batches_in_flight` batches run at once.
2. Offline write (`_offline`), off the answer's path: the rows pushed online go to `feast serve`
   (`to: offline`) in pushes that linger to collect many rows (an offline push costs ~4 ms of CPU and two
   fsyncs, plus ~0.05 ms a row), then their pending records are cleared. If this fails or the worker dies
   first, the records stay pending and any worker's recovery pushes them to both stores within seconds;
   a row pushed twice is stored once in each (upstreams.py).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.common.batching import MicroBatcher
from api.common.errors import DomainError, InvalidInput
from api.common.ids import uuid_datetime
from api.inbox.metrics import BATCH_SIZE, MESSAGES, PUSH_SIZE
from api.inbox.peers import Answer, BatchPeers
from api.inbox.schemas import Incoming
from api.inbox.settings import InboxSettings
from api.inbox.upstreams import FeatureRow, NewSms, Stored, Upstreams

logger = logging.getLogger(__name__)


class IdempotencyKeyReused(InvalidInput):
    """The Idempotency-Key was first used for a different message (IETF httpapi draft: 422)."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key was already used for a different message", loc=("header", "Idempotency-Key"))


@dataclass(frozen=True, slots=True)
class Outcome:
    sms_id: str
    pushed: bool  # False: stored, the push is pending (202)
    reason: str


@dataclass(frozen=True, slots=True)
class _Stored:
    stored: Stored
    features: list[int] | None
    pushed: bool  # False: a push is still owed (features unavailable, or the online push failed)


class InboxPipeline:
    def __init__(self, upstreams: Upstreams, settings: InboxSettings) -> None:
        self.upstreams = upstreams
        self.push_attempts = settings.push_attempts
        self.peers: BatchPeers | None = None  # set by the lifespan where workers share batches
        self._ingest = MicroBatcher(self._ingest_batch, max_batch=settings.ingest_batch_max,
                                    max_in_flight=settings.ingest_batches_in_flight,
                                    linger_seconds=settings.ingest_linger_seconds, linger_when_concurrent=True)
        self._offline = MicroBatcher(self._write_offline, max_batch=settings.offline_batch_max, max_in_flight=1,
                                     linger_seconds=settings.offline_linger_seconds)

    async def receive(self, incoming: Incoming) -> Outcome:
        return await self._ingest.submit(incoming)

    async def serve_peer(self, batch: list[Incoming]) -> list[Answer | None]:
        """A follower's batch, run in this worker's batches, each item's outcome or error for the follower to
        answer with; None where the follower must run the item itself (this worker is shutting down)."""
        results = await asyncio.gather(*(self.receive(item) for item in batch), return_exceptions=True)
        return [_to_answer(result) for result in results]

    async def close(self) -> None:
        for batcher in (self._ingest, self._offline):
            await batcher.close()

    async def _ingest_batch(self, batch: list[Incoming]) -> list[Outcome | Exception]:
        answers = await self.peers.forward(batch) if self.peers else [None] * len(batch)
        local = [item for item, answer in zip(batch, answers, strict=True) if answer is None]
        try:
            ran = iter([self._outcome(item) for item in await self._store_batch(local)] if local else [])
        except Exception as exc:  # the store failed: every item run here fails with it
            ran = iter([exc] * len(local))
        return [_from_answer(answer) if answer is not None else next(ran) for answer in answers]

    async def _store_batch(self, batch: list[Incoming]) -> list[_Stored]:
        BATCH_SIZE.observe(len(batch))
        new = [NewSms(item.sms.recipient_id, item.sms_id, item.sms.sender_id, item.sms.sms_text,
                      item.idempotency_key, None) for item in batch]
        features, stored = await asyncio.gather(self._features([n.sms_text for n in new]), self._store(new))
        pairs = list(zip(stored, features, strict=True))
        # A key conflict names the key's first message, with another text: its push is that message's own.
        rows = [FeatureRow(str(s.sms_id), uuid_datetime(s.sms_id), f) for s, f in pairs
                if s.pending and f is not None and s.status != "key_conflict"]
        pushed = await self._push_online(rows) if rows else True
        if pushed:
            for row in rows:
                self._offline.submit_nowait(row)
        return [_Stored(s, f, not s.pending or (pushed and f is not None)) for s, f in pairs]

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

    async def _push_online(self, rows: list[FeatureRow]) -> bool:
        PUSH_SIZE.labels("online").observe(len(rows))
        try:
            await self.upstreams.push(rows, to="online", attempts=self.push_attempts)
        except DomainError as exc:
            logger.warning("feature push failed; left pending", extra={"rows": len(rows), "error": exc.detail})
            return False
        return True

    async def _write_offline(self, rows: list[FeatureRow]) -> list[None]:
        PUSH_SIZE.labels("offline").observe(len(rows))
        try:
            await self.upstreams.push(rows, to="offline")
            await self.upstreams.clear_pending([row.sms_id for row in rows])
        except DomainError as exc:  # still pending: recovery pushes these to both stores and clears them
            logger.info("offline write deferred to recovery", extra={"rows": len(rows), "error": exc.detail})
        return [None] * len(rows)

    def _outcome(self, item: _Stored) -> Outcome | Exception:
        if item.stored.status == "key_conflict":
            MESSAGES.labels("rejected").inc()
            return IdempotencyKeyReused()
        sms_id = str(item.stored.sms_id)
        replay = "replayed; " if item.stored.status == "replayed" else ""
        if item.pushed:
            MESSAGES.labels("pushed").inc()
            return Outcome(sms_id, pushed=True, reason=f"{replay}stored and features pushed")
        MESSAGES.labels("queued").inc()
        return Outcome(sms_id, pushed=False, reason=f"{replay}stored; feature push pending")


def _to_answer(result: Outcome | BaseException) -> Answer | None:
    if isinstance(result, Outcome):
        return ["ok", result.sms_id, result.pushed, result.reason]
    if isinstance(result, DomainError):  # the same 4xx/5xx the follower's caller would get from a local run
        return ["error", result.status_code, result.detail, list(getattr(result, "loc", ())) or None]
    return None


def _from_answer(answer: Answer) -> Outcome | DomainError:
    if answer[0] == "ok":
        return Outcome(*answer[1:])
    _, status_code, detail, loc = answer
    if loc is not None:
        return InvalidInput(detail, tuple(loc))
    error = DomainError(detail)
    error.status_code = status_code
    return error
