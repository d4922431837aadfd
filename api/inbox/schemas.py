"""Request and response bodies (DESIGN §5). Field rules are user-data's, so bad input fails here first."""

import uuid
from dataclasses import dataclass, field

from pydantic import BaseModel

from api.common.ids import UserId, time_uuid
from api.user_data.schemas import SenderId, SmsText

# Visible ASCII, as the IETF httpapi Idempotency-Key draft's examples (UUIDs, random tokens) are.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"


class InboxSms(BaseModel):
    recipient_id: UserId
    sender_id: SenderId
    sms_text: SmsText


class InboxResult(BaseModel):
    success: bool
    reason: str
    sms_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received message on its way through the pipeline, perhaps via another worker (peers.py)."""

    sms: InboxSms
    idempotency_key: str | None
    # Made on receipt, so a batch run again elsewhere stores the same message, not a second one.
    sms_id: uuid.UUID = field(default_factory=time_uuid)
