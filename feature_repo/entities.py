"""Entities: one SMS message, keyed by its string id."""

from feast import Entity, ValueType

from contract.feature_store import ENTITY_KEY, ENTITY_NAME

sms = Entity(
    name=ENTITY_NAME,
    join_keys=[ENTITY_KEY],
    value_type=ValueType.STRING,
    description="One SMS message; ids look like sms10001, or a time-based UUID for messages the app stores.",
)
