"""Entities: one SMS message, keyed by its string id."""

from feast import Entity, ValueType

sms = Entity(
    name="sms",
    join_keys=["sms_id"],
    value_type=ValueType.STRING,
    description="One SMS message; ids look like sms10001, or a time-based UUID for messages the app stores.",
)
