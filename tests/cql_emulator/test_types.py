"""CQL type parsing, [option] codes, serialization both ways, validation and ordering."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.cql_emulator.types import (
    CqlType,
    Descending,
    deserialize,
    parse_type,
    serialize,
    sort_key,
    validate,
)


@pytest.mark.parametrize(
    ("text", "cql"),
    [
        ("varchar", "text"),
        ("TEXT", "text"),
        ("list<int>", "list<int>"),
        ("frozen<map<text, list<int>>>", "frozen<map<text, frozen<list<int>>>>"),
        ("set<timeuuid>", "set<timeuuid>"),
        ("tuple<int, text>", "tuple<int, text>"),
    ],
)
def test_parse_type_round_trips_schema_spelling(text: str, cql: str) -> None:
    assert parse_type(text).cql() == cql


@pytest.mark.parametrize("text", ["list<int, int>", "nosuch", "map<text>", "list<"])
def test_parse_type_rejects_bad_types(text: str) -> None:
    with pytest.raises((ValueError, IndexError)):
        parse_type(text)


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("ascii", b"\x00\x01"),
        ("bigint", b"\x00\x02"),
        ("blob", b"\x00\x03"),
        ("boolean", b"\x00\x04"),
        ("double", b"\x00\x07"),
        ("float", b"\x00\x08"),
        ("int", b"\x00\x09"),
        ("timestamp", b"\x00\x0b"),
        ("uuid", b"\x00\x0c"),
        ("text", b"\x00\x0d"),
        ("timeuuid", b"\x00\x0f"),
        ("inet", b"\x00\x10"),
        ("list<int>", b"\x00\x20\x00\x09"),
        ("map<text, int>", b"\x00\x21\x00\x0d\x00\x09"),
        ("set<uuid>", b"\x00\x22\x00\x0c"),
    ],
)
def test_type_option_codes(text: str, option: bytes) -> None:
    assert parse_type(text).option() == option


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("text", "héllo"),
        ("ascii", "abc"),
        ("blob", b"\x00\xff"),
        ("boolean", True),
        ("int", -(2**31)),
        ("bigint", 2**63 - 1),
        ("double", 1.5),
        ("float", 0.25),
        ("timestamp", 1_700_000_000_123),
        ("uuid", uuid.UUID(int=12345)),
        ("timeuuid", uuid.uuid1()),
        ("inet", "::1"),
        ("varint", -(10**30)),
        ("decimal", Decimal("-12.345")),
        ("smallint", -2),
        ("tinyint", 127),
        ("list<int>", [3, 1, 3]),
        ("set<text>", ["a", "b"]),
        ("map<text, bigint>", {"a": 1, "b": 2}),
        ("frozen<list<text>>", ["x"]),
    ],
)
def test_serialize_deserialize_round_trip(text: str, value: object) -> None:
    ctype = parse_type(text)
    raw = serialize(ctype, value)
    validate(ctype, raw)
    assert deserialize(ctype, raw) == value


def test_serialization_matches_wire_format() -> None:
    assert serialize(CqlType("int"), 1) == b"\x00\x00\x00\x01"
    assert serialize(parse_type("list<int>"), [7]) == b"\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07"
    assert serialize(parse_type("map<text, int>"), {"a": 1})[:4] == b"\x00\x00\x00\x01"


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("int", b"\x00\x01\x02"),
        ("bigint", b"\x00" * 4),
        ("uuid", b"\x00" * 15),
        ("timeuuid", uuid.uuid4().bytes),
        ("text", b"\xff\xfe"),
        ("ascii", "é".encode()),
        ("boolean", b"\x00\x00"),
    ],
)
def test_validate_rejects_malformed_values(text: str, raw: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        validate(parse_type(text), raw)


def test_sort_key_orders_timeuuids_by_time_and_ints_numerically() -> None:
    tu = CqlType("timeuuid")
    early = uuid.UUID(fields=(1, 0, 0x1000, 0xFF, 0xFF, 0xFFFFFFFFFFFF))
    late = uuid.UUID(fields=(2, 0, 0x1000, 0x80, 0x00, 0))
    assert sort_key(tu, early.bytes) < sort_key(tu, late.bytes)
    ints = [serialize(CqlType("int"), v) for v in (5, -3, 0)]
    assert [deserialize(CqlType("int"), b) for b in sorted(ints, key=lambda b: sort_key(CqlType("int"), b))] == [
        -3,
        0,
        5,
    ]
    assert Descending(1) < Descending(0)
