"""Feast's online rows built from Arrow columns, column by column (the encodings of Feast 0.67.0, byte for byte).

Materialization hands the online store one `EntityKey` and one `Value` proto per value, built in Python by
`feast.utils._convert_arrow_to_proto`: 70 % of `FeatureStore.materialize` here. This module builds what the
store keeps instead: each entity key serialized (version 3), each value's serialized `Value` and the
`value_text` Feast's SQL stores derive from it, and the timestamps as naive UTC datetimes.

It encodes only the columns it knows exactly: Float64, Int64 and Array(Int64) features, and String or Int64
join keys, with no nulls and no NaN, and event timestamps that fit microseconds. For anything else
`encode_batch` returns None, and the caller uses Feast's own conversion, so nothing is ever written
differently from Feast.
"""

import struct
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from feast.feature_view import FeatureView
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.value_type import ValueType

DOUBLE_TAG = 0x29  # Value.double_val: field 5, wire type 1 (fixed 64-bit)
INT64_LIST_TAG = b"\x72"  # Value.int64_list_val: field 14, wire type 2 (length-delimited)
PACKED_VAL_TAG = b"\x0a"  # Int64List.val: field 1, packed


@dataclass(frozen=True)
class EncodedColumn:
    values: list[bytes]
    """Each row's serialized `Value`."""
    texts: list[str | None]
    """Each row's `value_text`, as `feast.infra.online_stores.helpers.extract_text_and_num` gives it."""


@dataclass(frozen=True)
class EncodedBatch:
    entity_keys: list[bytes]
    features: dict[str, EncodedColumn]
    event_ts: list[datetime]
    created_ts: list[datetime] | None
    """None when the source has no created-timestamp column (Feast then writes NULL)."""


def encode_batch(
    batch: pa.RecordBatch | pa.Table, view: FeatureView, join_keys: dict[str, ValueType], key_version: int
) -> EncodedBatch | None:
    """The rows Feast would write for `batch`, or None if a column is not one this module encodes."""
    source = view.batch_source
    if key_version != 3 or source is None:
        return None
    keys = _entity_keys(batch, join_keys)
    event_ts = _timestamps(batch.column(source.timestamp_field))
    created_column = source.created_timestamp_column
    created_ts = _timestamps(batch.column(created_column)) if created_column else None
    features = {field.name: _feature(batch.column(field.name), field.dtype.to_value_type()) for field in view.features}
    encoded = {name: column for name, column in features.items() if column is not None}
    if keys is None or event_ts is None or (created_column and created_ts is None) or len(encoded) < len(features):
        return None
    return EncodedBatch(keys, encoded, event_ts, created_ts)


def _feature(column: pa.ChunkedArray | pa.Array, value_type: ValueType) -> EncodedColumn | None:
    if column.null_count:
        return None
    if value_type == ValueType.DOUBLE and column.type == pa.float64():
        return _doubles(column.to_numpy())
    if value_type == ValueType.INT64 and column.type == pa.int64():
        return _int64s(column.to_numpy())
    if value_type == ValueType.INT64_LIST and column.type in (pa.list_(pa.int64()), pa.large_list(pa.int64())):
        return _int64_lists(column)
    return None


def _doubles(values: np.ndarray) -> EncodedColumn | None:
    if np.isnan(values).any():  # Feast writes NaN as an empty Value
        return None
    packed = np.empty(len(values), dtype=[("tag", "u1"), ("value", "<f8")])
    packed["tag"], packed["value"] = DOUBLE_TAG, values
    raw = packed.tobytes()
    floats = values.tolist()
    return EncodedColumn([raw[i : i + 9] for i in range(0, len(raw), 9)], [str(v) for v in floats])


def _int64s(values: np.ndarray) -> EncodedColumn:
    """Few distinct values (labels, counts): each one serialized once by protobuf itself."""
    distinct, rows = np.unique(values, return_inverse=True)
    numbers = distinct.tolist()
    encoded = [ValueProto(int64_val=v).SerializeToString() for v in numbers]
    texts = [str(v) for v in numbers]
    indices = rows.tolist()
    return EncodedColumn([encoded[i] for i in indices], [texts[i] for i in indices])


def _int64_lists(column: pa.ChunkedArray | pa.Array) -> EncodedColumn | None:
    lists = pa.concat_arrays(column.chunks) if isinstance(column, pa.ChunkedArray) else column
    flat = lists.flatten()
    if flat.null_count:
        return None
    body, offsets = _varints(flat.to_numpy())
    list_offsets = lists.offsets.to_numpy()
    starts = offsets[list_offsets - list_offsets[0]].tolist()
    values = []
    for start, end in pairwise(starts):
        packed = body[start:end]
        inner = PACKED_VAL_TAG + _varint(len(packed)) + packed if packed else b""
        values.append(INT64_LIST_TAG + _varint(len(inner)) + inner)
    return EncodedColumn(values, [None] * len(values))


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Protobuf varints of int64 values, concatenated, and where each value's bytes start (plus the end)."""
    unsigned = values.astype(np.uint64)  # two's complement: a negative int64 takes ten bytes, as protobuf does
    sizes = np.ones(len(unsigned), dtype=np.int64)
    for shift in range(7, 64, 7):
        sizes += unsigned >= np.uint64(1 << shift)
    offsets = np.zeros(len(unsigned) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    out = np.empty(offsets[-1], dtype=np.uint8)
    for index in range(int(sizes.max(initial=0))):
        has = sizes > index
        group = (unsigned[has] >> np.uint64(7 * index)) & np.uint64(0x7F)
        more = (sizes[has] > index + 1).astype(np.uint64) << np.uint64(7)
        out[offsets[:-1][has] + index] = (group | more).astype(np.uint8)
    return out.tobytes(), offsets


@cache  # list lengths: one or a few per column
def _varint(number: int) -> bytes:
    out = bytearray()
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _entity_keys(batch: pa.RecordBatch | pa.Table, join_keys: dict[str, ValueType]) -> list[bytes] | None:
    """`serialize_entity_key(..., entity_key_serialization_version=3)` of each row: keys sorted by name."""
    names = sorted(join_keys)
    head = struct.pack("<I", len(names)) + b"".join(
        struct.pack("<II", ValueType.STRING.value, len(name.encode())) + name.encode() for name in names
    )
    parts = [_key_values(batch.column(name), join_keys[name]) for name in names]
    if not names or None in parts:
        return None
    return [head + b"".join(row) for row in zip(*parts, strict=True)]


def _key_values(column: pa.ChunkedArray | pa.Array, value_type: ValueType) -> list[bytes] | None:
    if column.null_count:
        return None
    if value_type == ValueType.STRING and column.type == pa.string():
        tag = struct.pack("<I", ValueType.STRING.value)
        encoded = [value.encode() for value in column.to_pylist()]
        return [tag + len(value).to_bytes(4, "little") + value for value in encoded]
    if value_type == ValueType.INT64 and column.type == pa.int64():
        head = struct.pack("<II", ValueType.INT64.value, 8)
        return [head + value.to_bytes(8, "little", signed=True) for value in column.to_pylist()]
    return None


def _timestamps(column: pa.ChunkedArray | pa.Array) -> list[datetime] | None:
    """Naive UTC datetimes, as Feast's stores write them (`to_naive_utc`); None if a value has nanoseconds."""
    if column.null_count or not pa.types.is_timestamp(column.type):
        return None
    try:
        return pc.cast(column, pa.timestamp("us")).to_numpy().astype(object).tolist()
    except pa.ArrowInvalid:
        return None
