"""What `POST /sms` does, in order: store (user-data), features (model serving), push (feast serve), offline append.

Storing must succeed or the request fails (502/503): a message is never acknowledged unless stored.
Once stored, a failing feature call or push does not fail the request: the message is queued for
the retrier and the answer is 202.
"""

import logging
from dataclasses import dataclass

from api.common.errors import DomainError
from api.common.ids import time_uuid, uuid_datetime
from api.common.offline_append import OfflineAppender
from api.inbox.metrics import MESSAGES
from api.inbox.push_batcher import PushBatcher
from api.inbox.retrier import PendingPush, PushRetrier
from api.inbox.schemas import InboxSms
from api.inbox.upstreams import Upstreams

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    sms_id: str
    pushed: bool  # False: stored, push queued
    reason: str


class InboxPipeline:
    def __init__(self, upstreams: Upstreams, batcher: PushBatcher, retrier: PushRetrier,
                 appender: OfflineAppender) -> None:
        self.upstreams = upstreams
        self.batcher = batcher
        self.retrier = retrier
        self.appender = appender

    async def receive(self, sms: InboxSms) -> Outcome:
        sms_id = time_uuid()
        try:
            await self.upstreams.store_sms(recipient_id=sms.recipient_id, sender_id=sms.sender_id,
                                           sms_text=sms.sms_text, sms_id=sms_id)
        except DomainError:
            MESSAGES.labels("rejected").inc()
            raise
        pending = PendingPush(sms_id=str(sms_id), sms_text=sms.sms_text, event_timestamp=uuid_datetime(sms_id))
        try:
            pending.features = await self.upstreams.text_to_features(sms.sms_text)
            await self.batcher.push([pending.row()])
        except DomainError as exc:
            self.retrier.put(pending)
            MESSAGES.labels("queued").inc()
            logger.warning("feature push queued for retry", extra={"sms_id": pending.sms_id, "error": exc.detail})
            return Outcome(pending.sms_id, pushed=False, reason=f"stored; feature push queued for retry ({exc.detail})")
        self.appender.append([pending.row()])
        MESSAGES.labels("pushed").inc()
        return Outcome(pending.sms_id, pushed=True, reason="stored and features pushed")
