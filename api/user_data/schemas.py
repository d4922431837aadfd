"""Request and response bodies (DESIGN §5: the tutorial's shapes, with extra fields)."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from api.common.ids import MAX_ID_LENGTH, TimeUuid, UserId
from api.common.storage import BatchStatus, PendingPush, SmsBatchItem, SmsBatchResult, StoredSms
from api.user_data.settings import MAX_TEXT_LENGTH
from contract.feature_store import V2_LENGTH

MAX_KEY_LENGTH = 255
MAX_TOKEN_ID = 2**31 - 1  # Cassandra `int`

SenderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH)]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("sms_text must not be blank")
    return text


SmsText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_not_blank)]


IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH)]
TokenId = Annotated[int, Field(strict=True, ge=0, le=MAX_TOKEN_ID)]
V2Features = Annotated[list[TokenId], Field(min_length=V2_LENGTH, max_length=V2_LENGTH)]


class SmsCreate(BaseModel):
    sender_id: SenderId
    sms_text: SmsText
    sms_id: TimeUuid | None = Field(
        default=None,
        description="Optional client-made time-based UUID, so a retried POST stores the message once. "
        "The server makes one when absent.",
    )


class SmsCreated(BaseModel):
    successful: bool
    msg: str
    sms_id: uuid.UUID


class SmsPublic(BaseModel):
    sms_id: uuid.UUID
    user_id: str
    sender_id: str
    sms_text: str
    received_at: datetime = Field(description="UTC, from the time-based sms_id.")

    @classmethod
    def from_stored(cls, user_id: str, sms: StoredSms) -> "SmsPublic":
        return cls(sms_id=sms.sms_id, user_id=user_id, sender_id=sms.sender_id, sms_text=sms.sms_text,
                   received_at=sms.received_at)


class BatchSmsItem(BaseModel):
    user_id: UserId
    sms_id: TimeUuid
    sender_id: SenderId
    sms_text: SmsText
    idempotency_key: IdempotencyKey | None = Field(
        default=None, description="A retry with the same key gets the first sms_id back and writes nothing."
    )
    features: V2Features | None = Field(default=None, description="v2 token ids, or null if not computed yet.")

    def to_store(self) -> SmsBatchItem:
        sms = StoredSms(sms_id=self.sms_id, sender_id=self.sender_id, sms_text=self.sms_text)
        features = None if self.features is None else tuple(self.features)
        return SmsBatchItem(self.user_id, sms, self.idempotency_key, features)


class BatchSmsCreate(BaseModel):
    items: list[BatchSmsItem] = Field(min_length=1, description="At most MAX_BATCH_SIZE items.")


class BatchSmsResult(BaseModel):
    sms_id: uuid.UUID = Field(description="On a replay, the sms_id recorded for the key.")
    status: BatchStatus
    pending: bool = Field(description="Whether a pending push exists for sms_id after the call.")

    @classmethod
    def from_store(cls, result: SmsBatchResult) -> "BatchSmsResult":
        return cls(sms_id=result.sms_id, status=result.status, pending=result.pending)


class BatchSmsResults(BaseModel):
    items: list[BatchSmsResult] = Field(description="One per request item, in request order.")


class PendingPushPublic(BaseModel):
    sms_id: uuid.UUID
    user_id: str
    sms_text: str
    features: list[int] | None

    @classmethod
    def from_store(cls, push: PendingPush) -> "PendingPushPublic":
        features = None if push.features is None else list(push.features)
        return cls(sms_id=push.sms_id, user_id=push.user_id, sms_text=push.sms_text, features=features)


class PendingPage(BaseModel):
    items: list[PendingPushPublic] = Field(description="Oldest first.")


class PendingClear(BaseModel):
    sms_ids: list[TimeUuid] = Field(description="At most MAX_BATCH_SIZE ids; unknown ids are ignored.")
