"""feast_ext/arrow_rows.py against Feast's own conversion, value by value, on edge values of every type it encodes."""

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import extract_text_and_num
from feast.types import Array, Float64, Int64, String
from feast.utils import _convert_arrow_to_proto, to_naive_utc

from feast_ext.arrow_rows import EncodedBatch, encode_batch

BIG = 2**63 - 1
UTC_MICROS = pa.timestamp("us", tz="UTC")
MOMENTS = [datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)]


def view(*, int_key: bool = True, created: bool = False) -> FeatureView:
    entities = [Entity(name="sms", join_keys=["sms_id"], value_type=ValueType.STRING)]
    schema = [Field(name="sms_id", dtype=String)]
    if int_key:  # a second join key, sorted before "sms_id" in the serialized key
        entities.append(Entity(name="user", join_keys=["batch"], value_type=ValueType.INT64))
        schema.append(Field(name="batch", dtype=Int64))
    schema += [
        Field(name="ratio", dtype=Float64),
        Field(name="count", dtype=Int64),
        Field(name="ids", dtype=Array(Int64)),
    ]
    source = FileSource(
        path="unused.parquet", timestamp_field="event_timestamp", created_timestamp_column="created" if created else ""
    )
    return FeatureView(name="v", entities=entities, schema=schema, source=source, ttl=timedelta(days=1))


def table(rows: int = 6, timestamp_type: pa.DataType = UTC_MICROS) -> pa.Table:
    ratios = [0.0, -0.0, 1 / 3, float("inf"), -1e300, 5e-324]
    counts = [0, 1, -1, 127, 128, BIG]
    ids = [[], [0], [1, 127, 128, 16_383, 16_384], [-1, BIG, -BIG - 1], list(range(300)), [2**35]]
    return pa.table(
        {
            "sms_id": [f"sms{i}" if i % 2 else f"é-{i}" for i in range(rows)],
            "batch": [(-1) ** i * 10**i for i in range(rows)],
            "ratio": [ratios[i % 6] for i in range(rows)],
            "count": [counts[i % 6] for i in range(rows)],
            "ids": pa.array([ids[i % 6] for i in range(rows)], pa.list_(pa.int64())),
            "event_timestamp": pa.array([MOMENTS[i % 2] for i in range(rows)], timestamp_type),
            "created": pa.array([MOMENTS[(i + 1) % 2] for i in range(rows)], timestamp_type),
        }
    )


def join_keys(feature_view: FeatureView) -> dict[str, ValueType]:
    return {entity.name: entity.dtype.to_value_type() for entity in feature_view.entity_columns}


def assert_as_feast(batch: pa.RecordBatch | pa.Table, feature_view: FeatureView) -> None:
    encoded = encode_batch(batch, feature_view, join_keys(feature_view), 3)
    assert isinstance(encoded, EncodedBatch)
    expected = _convert_arrow_to_proto(
        pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch,
        feature_view,
        join_keys(feature_view),
    )
    assert len(encoded.entity_keys) == len(expected) == batch.num_rows
    for row, (key, values, event_ts, created_ts) in enumerate(expected):
        assert encoded.entity_keys[row] == serialize_entity_key(key, entity_key_serialization_version=3)
        assert encoded.event_ts[row] == to_naive_utc(event_ts) and encoded.event_ts[row].tzinfo is None
        if encoded.created_ts is None:  # the source has no created-timestamp column
            assert created_ts is None
        else:
            assert encoded.created_ts[row] == to_naive_utc(created_ts) and encoded.created_ts[row].tzinfo is None
        assert set(encoded.features) == set(values)
        for name, value in values.items():
            assert encoded.features[name].values[row] == value.SerializeToString(), (name, row)
            assert encoded.features[name].texts[row] == extract_text_and_num(value, False)[0], (name, row)


@pytest.mark.parametrize(("int_key", "created"), [(True, False), (False, False), (False, True)])
def test_encode_batch_edge_values_match_feast(int_key: bool, created: bool) -> None:
    assert_as_feast(table(12), view(int_key=int_key, created=created))


def test_encode_batch_sliced_record_batch_matches_feast() -> None:
    """online_write_batch_size slices a table: list offsets then start past zero."""
    batch = table(12).combine_chunks().to_batches(max_chunksize=5)[1]
    assert batch.column("ids").offset > 0
    assert_as_feast(batch, view())


def test_encode_batch_naive_and_millisecond_timestamps_match_feast() -> None:
    assert_as_feast(table(timestamp_type=pa.timestamp("us")), view())
    assert_as_feast(table(timestamp_type=pa.timestamp("ms", tz="UTC")), view())


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("ratio", [float("nan"), 1.0]),  # Feast writes NaN as an empty Value
        ("ratio", [None, 1.0]),
        ("count", [None, 1]),
        ("ids", [[1, None], [2]]),
        ("ids", [None, [2]]),
        ("sms_id", [None, "sms1"]),
        ("count", pa.array([1, 2], pa.int32())),  # a type other than the declared one
        ("event_timestamp", pa.array([1, 2], pa.timestamp("ns", tz="UTC"))),  # nanoseconds Feast would truncate
    ],
)
def test_encode_batch_declines_what_it_does_not_encode(column: str, values: list[object] | pa.Array) -> None:
    source = table(2)
    array = values if isinstance(values, pa.Array) else pa.array(values, source.schema.field(column).type)
    assert (
        encode_batch(
            source.set_column(source.schema.get_field_index(column), column, array), view(), join_keys(view()), 3
        )
        is None
    )
