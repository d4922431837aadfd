"""Request and response bodies (DESIGN §5: the tutorial's shapes, with extra fields)."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from api.common.storage import StoredSms
from api.user_data.settings import MAX_ID_LENGTH, MAX_TEXT_LENGTH

# Ids appear in URLs and Cassandra partition keys: short, printable, no slashes.
USER_ID_PATTERN = r"^[A-Za-z0-9._@+-]+$"
UserId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=USER_ID_PATTERN)]
SenderId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH)]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("sms_text must not be blank")
    return text


SmsText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_not_blank)]


def require_time_uuid(value: uuid.UUID) -> uuid.UUID:
    """sms ids are time-based UUIDs; anything else cannot exist (and Cassandra's timeuuid rejects it)."""
    if value.version != 1:
        raise ValueError("must be a time-based (version 1) UUID")
    return value


class SmsCreate(BaseModel):
    sender_id: SenderId
    sms_text: SmsText
    sms_id: uuid.UUID | None = Field(
        default=None,
        description="Optional client-made time-based UUID, so a retried POST stores the message once. "
        "The server makes one when absent.",
    )

    @field_validator("sms_id")
    @classmethod
    def _time_based(cls, value: uuid.UUID | None) -> uuid.UUID | None:
        return None if value is None else require_time_uuid(value)


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


class SmsPage(BaseModel):
    items: list[SmsPublic]
    next_before: uuid.UUID | None = Field(description="Pass as `before` for the next (older) page; null at the end.")
