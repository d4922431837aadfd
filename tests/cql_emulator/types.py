"""CQL types: parsing, result-metadata [option] codes, and value (de)serialization."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
import struct
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import total_ordering
from typing import Any

from .protocol import w_short, w_string

NATIVE_CODES = {
    "ascii": 0x0001,
    "bigint": 0x0002,
    "blob": 0x0003,
    "boolean": 0x0004,
    "counter": 0x0005,
    "decimal": 0x0006,
    "double": 0x0007,
    "float": 0x0008,
    "int": 0x0009,
    "timestamp": 0x000B,
    "uuid": 0x000C,
    "text": 0x000D,
    "varint": 0x000E,
    "timeuuid": 0x000F,
    "inet": 0x0010,
    "date": 0x0011,
    "time": 0x0012,
    "smallint": 0x0013,
    "tinyint": 0x0014,
}
COLLECTION_CODES = {"list": 0x0020, "map": 0x0021, "set": 0x0022, "tuple": 0x0031}
ALIASES = {"varchar": "text"}
FIXED_SIZES = {
    "int": 4,
    "bigint": 8,
    "counter": 8,
    "timestamp": 8,
    "double": 8,
    "float": 4,
    "smallint": 2,
    "tinyint": 1,
    "boolean": 1,
    "uuid": 16,
    "timeuuid": 16,
    "date": 4,
    "time": 8,
}
INT_RANGES = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64, "timestamp": 64}
GREGORIAN_OFFSET = 0x01B21DD213814000  # 100ns intervals between 1582-10-15 and 1970-01-01


@dataclass(frozen=True)
class CqlType:
    name: str
    params: tuple[CqlType, ...] = ()
    frozen: bool = False

    @property
    def is_collection(self) -> bool:
        return self.name in ("list", "set", "map")

    @property
    def is_multicell(self) -> bool:
        return self.is_collection and not self.frozen

    def cql(self) -> str:
        """The type as system_schema.columns spells it."""
        if not self.params:
            return self.name
        inner = f"{self.name}<{', '.join(p.cql() for p in self.params)}>"
        return f"frozen<{inner}>" if self.frozen and self.name != "tuple" else inner

    def freeze(self) -> CqlType:
        return CqlType(self.name, tuple(p.freeze() for p in self.params), self.is_collection)

    def option(self) -> bytes:
        """The [option] describing this type in result metadata."""
        if self.name in NATIVE_CODES:
            return w_short(NATIVE_CODES[self.name])
        if self.name == "tuple":
            return w_short(0x31) + w_short(len(self.params)) + b"".join(p.option() for p in self.params)
        if self.name in COLLECTION_CODES:
            return w_short(COLLECTION_CODES[self.name]) + b"".join(p.option() for p in self.params)
        return w_short(0) + w_string(self.name)

    def __str__(self) -> str:
        return self.cql()


def native(name: str) -> CqlType:
    return CqlType(ALIASES.get(name, name))


_TYPE_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|,)")


def parse_type(text: str) -> CqlType:
    """Parse a type string such as 'frozen<map<text, list<int>>>'."""
    tokens = _TYPE_TOKEN.findall(text)
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", text):
        raise ValueError(f"Invalid type {text!r}")
    pos = 0

    def parse() -> CqlType:
        nonlocal pos
        name = tokens[pos].lower()
        pos += 1
        args: list[CqlType] = []
        if pos < len(tokens) and tokens[pos] == "<":
            pos += 1
            args.append(parse())
            while tokens[pos] == ",":
                pos += 1
                args.append(parse())
            if tokens[pos] != ">":
                raise ValueError(f"Invalid type {text!r}")
            pos += 1
        return make_type(name, args)

    result = parse()
    if pos != len(tokens):
        raise ValueError(f"Invalid type {text!r}")
    return result


def make_type(name: str, args: list[CqlType]) -> CqlType:
    name = ALIASES.get(name, name)
    arity = {"list": 1, "set": 1, "map": 2, "frozen": 1}
    if name in arity:
        if len(args) != arity[name]:
            raise ValueError(f"{name} takes {arity[name]} type parameter(s)")
        if name == "frozen":
            return args[0].freeze()
        return CqlType(name, tuple(args))
    if name == "tuple":
        if not args:
            raise ValueError("tuple needs at least one type")
        return CqlType("tuple", tuple(a.freeze() for a in args), True)
    if args or name not in NATIVE_CODES:
        raise ValueError(f"Unknown type {name}")
    return CqlType(name)


# -- serialization --------------------------------------------------------------------------------


def _collection_items(data: bytes, *, pairs: bool = False) -> list[bytes | None]:
    """Elements of a serialized list/set, or keys and values interleaved for a map (pairs=True)."""
    (count,) = struct.unpack_from(">i", data, 0)
    pos, items = 4, []
    for _ in range(count * 2 if pairs else count):
        (size,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if size < 0:
            items.append(None)
            continue
        if pos + size > len(data):
            raise ValueError("Not enough bytes to read a collection element")
        items.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        raise ValueError("Unexpected extraneous bytes after collection value")
    return items


def _pack_items(items: list[bytes], *, pairs: bool = False) -> bytes:
    count = len(items) // 2 if pairs else len(items)
    return struct.pack(">i", count) + b"".join(struct.pack(">i", len(i)) + i for i in items)


def serialize(ctype: CqlType, value: Any) -> bytes:
    """Python value -> CQL bytes (value must already be of the right Python type)."""
    name = ctype.name
    if name in ("text", "ascii"):
        return str(value).encode("utf-8" if name == "text" else "ascii")
    if name == "blob":
        return bytes(value)
    if name == "boolean":
        return b"\x01" if value else b"\x00"
    if name in INT_RANGES:
        if isinstance(value, dt.datetime):
            value = timestamp_millis(value)
        return int(value).to_bytes(INT_RANGES[name] // 8, "big", signed=True)
    if name == "varint":
        length = max(1, (int(value).bit_length() + 8) // 8)
        return int(value).to_bytes(length, "big", signed=True)
    if name == "double":
        return struct.pack(">d", float(value))
    if name == "float":
        return struct.pack(">f", float(value))
    if name == "decimal":
        sign, digits, exponent = Decimal(value).as_tuple()
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        return struct.pack(">i", -int(exponent)) + serialize(CqlType("varint"), unscaled)
    if name in ("uuid", "timeuuid"):
        return value.bytes
    if name == "inet":
        return ipaddress.ip_address(value).packed
    if name == "date":
        return struct.pack(">I", (int(value) + 2**31) & 0xFFFFFFFF)
    if name == "time":
        return struct.pack(">q", int(value))
    if name in ("list", "set"):
        items = [serialize(ctype.params[0], v) for v in value]
        if name == "set":
            items = sorted(set(items), key=lambda b: sort_key(ctype.params[0], b))
        return _pack_items(items)
    if name == "map":
        pairs = sorted(
            ((serialize(ctype.params[0], k), serialize(ctype.params[1], v)) for k, v in value.items()),
            key=lambda kv: sort_key(ctype.params[0], kv[0]),
        )
        return _pack_items([b for kv in pairs for b in kv], pairs=True)
    if name == "tuple":
        parts = []
        for sub, item in zip(ctype.params, value, strict=False):
            raw = serialize(sub, item) if item is not None else None
            parts.append(struct.pack(">i", -1) if raw is None else struct.pack(">i", len(raw)) + raw)
        return b"".join(parts)
    raise ValueError(f"Cannot serialize type {ctype}")


def deserialize(ctype: CqlType, data: bytes | None) -> Any:
    """CQL bytes -> Python value."""
    if data is None:
        return None
    name = ctype.name
    if not data and name not in ("text", "ascii", "blob"):
        return None
    if name in ("text", "ascii"):
        return data.decode("utf-8")
    if name == "blob":
        return data
    if name == "boolean":
        return data != b"\x00"
    if name in INT_RANGES or name == "varint":
        return int.from_bytes(data, "big", signed=True)
    if name == "double":
        return struct.unpack(">d", data)[0]
    if name == "float":
        return struct.unpack(">f", data)[0]
    if name == "decimal":
        scale = struct.unpack(">i", data[:4])[0]
        return Decimal(int.from_bytes(data[4:], "big", signed=True)).scaleb(-scale)
    if name in ("uuid", "timeuuid"):
        return uuid.UUID(bytes=data)
    if name == "inet":
        return str(ipaddress.ip_address(data))
    if name == "date":
        return struct.unpack(">I", data)[0] - 2**31
    if name == "time":
        return struct.unpack(">q", data)[0]
    if name in ("list", "set"):
        return [deserialize(ctype.params[0], b) for b in _collection_items(data)]
    if name == "map":
        items = _collection_items(data, pairs=True)
        return {
            deserialize(ctype.params[0], items[i]): deserialize(ctype.params[1], items[i + 1])
            for i in range(0, len(items), 2)
        }
    if name == "tuple":
        pos, out = 0, []
        for sub in ctype.params:
            if pos >= len(data):
                out.append(None)
                continue
            (size,) = struct.unpack_from(">i", data, pos)
            pos += 4
            out.append(None if size < 0 else deserialize(sub, data[pos : pos + size]))
            pos += max(size, 0)
        return tuple(out)
    raise ValueError(f"Cannot deserialize type {ctype}")


def validate(ctype: CqlType, data: bytes) -> None:
    """Reject bytes that are not a valid serialized value of ctype (as Cassandra's validators do)."""
    name = ctype.name
    size = FIXED_SIZES.get(name)
    if size is not None and len(data) not in (0, size):
        noun = {"int": "int", "bigint": "long", "counter": "long", "timestamp": "long"}.get(name, name)
        raise ValueError(f"Expected {size} or 0 byte {noun} ({len(data)})")
    if name == "text":
        data.decode("utf-8")
    elif name == "ascii" and any(b > 127 for b in data):
        raise ValueError("Invalid byte for ascii")
    elif name == "timeuuid" and data and (data[6] >> 4) != 1:
        raise ValueError("Unsupported UUID version for timeuuid")
    elif name == "inet" and len(data) not in (0, 4, 16):
        raise ValueError(f"Invalid inet length {len(data)}")
    elif name in ("list", "set", "map") and data:
        items = _collection_items(data, pairs=name == "map")
        for i, item in enumerate(items):
            if item is None:
                raise ValueError(f"null is not supported inside collections ({ctype})")
            validate(ctype.params[i % 2] if name == "map" else ctype.params[0], item)


# -- ordering ------------------------------------------------------------------------------------


def timeuuid_timestamp(value: uuid.UUID) -> int:
    return value.time


def unix_micros_from_timeuuid(value: uuid.UUID) -> int:
    return (value.time - GREGORIAN_OFFSET) // 10


def timestamp_millis(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int((value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1000)


def sort_key(ctype: CqlType, data: bytes | None) -> Any:
    """A Python key ordering values as Cassandra's AbstractType.compare does."""
    if data is None:
        return (0,)
    if not data:
        return (1,)
    name = ctype.name
    if name in ("uuid", "timeuuid"):
        value = uuid.UUID(bytes=data)
        signed_tail = int.from_bytes(data[8:], "big", signed=True)
        if name == "timeuuid" or value.version == 1:
            return (2, value.version or 0, value.time, signed_tail)
        return (2, value.version or 0, 0, data)
    if name in ("list", "set"):
        return (2, tuple(sort_key(ctype.params[0], b) for b in _collection_items(data)))
    if name == "map":
        items = _collection_items(data, pairs=True)
        return (2, tuple(sort_key(ctype.params[i % 2], b) for i, b in enumerate(items)))
    if name in ("text", "ascii", "blob", "inet", "tuple"):
        return (2, data)
    value = deserialize(ctype, data)
    if isinstance(value, float) and math.isnan(value):
        return (3, 0.0)
    return (2, value)


@total_ordering
class Descending:
    """Wraps a sort key to invert its order (clustering columns declared DESC)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and self.key == other.key

    def __lt__(self, other: Descending) -> bool:
        return bool(other.key < self.key)

    def __hash__(self) -> int:
        return hash(self.key)
