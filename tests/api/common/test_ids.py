"""Time-based UUIDs: version 1, random (multicast) node, ordered, carrying their time."""

import uuid
from datetime import UTC, datetime, timedelta

from api.common.ids import datetime_ticks, time_uuid, uuid_datetime, uuid_ticks


def test_time_uuid_is_version_1_with_random_node() -> None:
    value = time_uuid()
    assert value.version == 1
    assert value.node & (1 << 40), "multicast bit marks a non-MAC node"
    assert value.node != uuid.getnode()


def test_time_uuids_increase_within_process() -> None:
    values = [time_uuid() for _ in range(1000)]
    ticks = [uuid_ticks(v) for v in values]
    assert ticks == sorted(ticks) and len(set(values)) == 1000


def test_time_uuid_at_round_trips_the_time() -> None:
    at = datetime(2021, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    assert uuid_datetime(time_uuid(at)) == at
    assert uuid_ticks(time_uuid(at)) == datetime_ticks(at)


def test_time_uuid_at_same_time_is_unique() -> None:
    at = datetime.now(UTC) - timedelta(minutes=3)
    assert len({time_uuid(at) for _ in range(10_000)}) == 10_000


def test_uuid_ticks_rejects_random_uuids() -> None:
    import pytest

    with pytest.raises(ValueError, match="not a time-based"):
        uuid_ticks(uuid.uuid4())
