"""Turning parsed terms (literals, bind markers, collections, functions) into CQL bytes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from . import statements as st
from .errors import InvalidRequest
from .protocol import UNSET, Unset, Value
from .types import GREGORIAN_OFFSET, CqlType, serialize, validate

LITERAL_TARGETS = {
    "string": {"text", "ascii", "timestamp", "date", "time", "inet"},
    "int": {
        "int",
        "bigint",
        "smallint",
        "tinyint",
        "varint",
        "counter",
        "decimal",
        "double",
        "float",
        "timestamp",
        "date",
        "time",
    },
    "float": {"double", "float", "decimal"},
    "bool": {"boolean"},
    "uuid": {"uuid", "timeuuid"},
    "hex": {"blob"},
}
KIND_NAMES = {
    "string": "STRING",
    "int": "INTEGER",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "uuid": "UUID",
    "hex": "HEX",
}
_TS_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


@dataclass
class Spec:
    """A bind marker's receiver: the name and type the driver sees in prepared metadata."""

    name: str
    ctype: CqlType


@dataclass
class Context:
    """Bound values of one execution plus the server clock (for now() and friends)."""

    values: list[Value] = field(default_factory=list)
    now_us: int = 0


def parse_timestamp(text: str) -> int:
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = _TS_RE.match(text.strip())
    if not match:
        raise ValueError(f"Unable to parse a date/time from '{text}'")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    tz = dt.UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micros = int((frac or "0").ljust(6, "0")[:6])
    stamp = dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micros, tzinfo=tz
    )
    return int((stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1))


def timeuuid_at(micros: int) -> uuid.UUID:
    ticks = micros * 10 + GREGORIAN_OFFSET + int.from_bytes(os.urandom(1), "big") % 10
    node = int.from_bytes(os.urandom(6), "big") | 0x010000000000
    clock_seq = int.from_bytes(os.urandom(2), "big") & 0x3FFF
    return uuid.UUID(
        fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            ((ticks >> 48) & 0x0FFF) | 0x1000,
            0x80 | (clock_seq >> 8),
            clock_seq & 0xFF,
            node,
        )
    )


def _coerce(kind: str, text: str, ctype: CqlType) -> object:
    name = ctype.name
    if kind == "string":
        if name == "timestamp":
            return parse_timestamp(text)
        if name == "date":
            return (dt.date.fromisoformat(text) - dt.date(1970, 1, 1)).days
        if name == "time":
            parts = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?", text)
            if not parts:
                raise ValueError(f"Unable to coerce '{text}' to a formatted time (long)")
            h, m, s, f = parts.groups()
            return ((int(h) * 60 + int(m)) * 60 + int(s)) * 10**9 + int((f or "0").ljust(9, "0"))
        if name == "inet":
            return str(ipaddress.ip_address(text))
        if name == "ascii":
            text.encode("ascii")
        return text
    if kind == "int":
        value = int(text)
        if name in ("double", "float"):
            return float(value)
        if name == "decimal":
            return Decimal(value)
        bits = {
            "tinyint": 8,
            "smallint": 16,
            "int": 32,
            "bigint": 64,
            "counter": 64,
            "timestamp": 64,
            "time": 64,
            "date": 32,
        }.get(name)
        if bits and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"Unable to make {name} from '{text}'")
        return value
    if kind == "float":
        if name == "decimal":
            return Decimal(text)
        value_f = float(text)
        if name == "float" and abs(value_f) > 3.4028235e38 and value_f not in (float("inf"), float("-inf")):
            raise ValueError(f"Unable to make float from '{text}'")
        return value_f
    if kind == "bool":
        return text == "true"
    if kind == "uuid":
        value_u = uuid.UUID(text)
        if name == "timeuuid" and value_u.version != 1:
            raise ValueError(f"Unsupported UUID for timeuuid: {text}")
        return value_u
    if kind == "hex":
        if len(text) % 2:
            raise ValueError(f"Hex string is odd-length: {text}")
        return bytes.fromhex(text[2:])
    raise ValueError(kind)


def evaluate(term: st.Term, receiver: Spec, ctx: Context) -> Value:
    """Evaluate a term for a receiver column/marker; raise InvalidRequest like Cassandra would."""
    ctype = receiver.ctype
    if isinstance(term, st.BindMarker):
        raw = ctx.values[term.index] if term.index < len(ctx.values) else UNSET
        if isinstance(raw, bytes):
            try:
                validate(ctype, raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidRequest(f"Exception while binding column {receiver.name}: {exc}") from None
        return raw
    if isinstance(term, st.Literal):
        if term.kind == "null":
            return None
        if term.kind == "bytes":
            return bytes.fromhex(term.text)
        if ctype.name not in LITERAL_TARGETS.get(term.kind, set()):
            raise InvalidRequest(
                f'Invalid {KIND_NAMES[term.kind]} constant ({term.text}) for "{receiver.name}" of type {ctype}'
            )
        try:
            return serialize(ctype, _coerce(term.kind, term.text, ctype))
        except (ValueError, InvalidOperation, UnicodeEncodeError, OverflowError) as exc:
            raise InvalidRequest(f"Unable to coerce '{term.text}' to {ctype}: {exc}") from None
    if isinstance(term, st.Collection):
        return _collection(term, receiver, ctx)
    if isinstance(term, st.FunctionCall):
        return _function(term, receiver, ctx)
    if isinstance(term, st.Cast):
        if term.ctype.name != ctype.name:
            raise InvalidRequest(f"Cannot assign value of type {term.ctype} to {receiver.name} of type {ctype}")
        return evaluate(term.term, receiver, ctx)
    raise InvalidRequest(f"Unsupported term {term}")


def _element(term: st.Term, name: str, ctype: CqlType, ctx: Context) -> bytes:
    value = evaluate(term, Spec(name, ctype), ctx)
    if value is None or isinstance(value, Unset):
        raise InvalidRequest("null is not supported inside collections")
    return value


def _pack(items: list[bytes], *, pairs: bool = False) -> bytes:
    count = len(items) // 2 if pairs else len(items)
    return count.to_bytes(4, "big") + b"".join(len(i).to_bytes(4, "big") + i for i in items)


def _collection(term: st.Collection, receiver: Spec, ctx: Context) -> bytes:
    from .types import sort_key

    ctype = receiver.ctype
    kind = term.kind
    if kind == "set" and not term.items and ctype.name == "map":
        kind = "map"
    if kind != ctype.name:
        raise InvalidRequest(f"Invalid {kind} literal for {receiver.name} of type {ctype}")
    if kind == "list":
        return _pack([_element(t, receiver.name, ctype.params[0], ctx) for t in term.items])
    if kind == "set":
        items = {_element(t, receiver.name, ctype.params[0], ctx) for t in term.items}
        return _pack(sorted(items, key=lambda b: sort_key(ctype.params[0], b)))
    if kind == "map":
        pairs: dict[bytes, bytes] = {}
        for i in range(0, len(term.items), 2):
            key = _element(term.items[i], receiver.name, ctype.params[0], ctx)
            pairs[key] = _element(term.items[i + 1], receiver.name, ctype.params[1], ctx)
        ordered = sorted(pairs.items(), key=lambda kv: sort_key(ctype.params[0], kv[0]))
        return _pack([b for kv in ordered for b in kv], pairs=True)
    if len(term.items) > len(ctype.params):
        raise InvalidRequest(f"Invalid tuple literal for {receiver.name}: too many elements")
    out = b""
    for item, sub in zip(term.items, ctype.params, strict=False):
        value = evaluate(item, Spec(receiver.name, sub), ctx)
        out += b"\xff\xff\xff\xff" if not isinstance(value, bytes) else len(value).to_bytes(4, "big") + value
    return out


FUNCTION_TYPES = {
    "now": "timeuuid",
    "currenttimeuuid": "timeuuid",
    "uuid": "uuid",
    "currenttimestamp": "timestamp",
    "totimestamp": "timestamp",
    "tounixtimestamp": "bigint",
    "currentdate": "date",
    "mintimeuuid": "timeuuid",
    "maxtimeuuid": "timeuuid",
}


def _function(term: st.FunctionCall, receiver: Spec, ctx: Context) -> bytes:
    name = term.name
    result = FUNCTION_TYPES.get(name)
    if result is None:
        raise InvalidRequest(f"Unknown function '{name}'")
    if result != receiver.ctype.name:
        raise InvalidRequest(
            f"Type error: cannot assign result of function system.{name} (type {result}) to "
            f"{receiver.name} (type {receiver.ctype})"
        )
    micros = ctx.now_us
    if name in ("mintimeuuid", "maxtimeuuid"):
        if len(term.args) != 1:
            raise InvalidRequest(f"Invalid number of arguments in call to function system.{name}")
        arg = evaluate(term.args[0], Spec(receiver.name, CqlType("timestamp")), ctx)
        if not isinstance(arg, bytes):
            return b""
        ticks = int.from_bytes(arg, "big", signed=True) * 10_000 + GREGORIAN_OFFSET
        msb = ((ticks & 0xFFFFFFFF) << 32) | (((ticks >> 32) & 0xFFFF) << 16) | 0x1000 | ((ticks >> 48) & 0x0FFF)
        lsb = 0x8080808080808080 if name == "mintimeuuid" else 0x7F7F7F7F7F7F7F7F
        return msb.to_bytes(8, "big") + lsb.to_bytes(8, "big")
    if name in ("totimestamp", "tounixtimestamp"):
        if len(term.args) != 1:
            raise InvalidRequest(f"Invalid number of arguments in call to function system.{name}")
        arg = evaluate(term.args[0], Spec(receiver.name, CqlType("timeuuid")), ctx)
        if not isinstance(arg, bytes):
            return b""
        micros = (uuid.UUID(bytes=arg).time - GREGORIAN_OFFSET) // 10
        return serialize(CqlType(result), micros // 1000)
    if term.args:
        raise InvalidRequest(f"Invalid number of arguments in call to function system.{name}: 0 required")
    if result == "timeuuid":
        return timeuuid_at(micros).bytes
    if result == "uuid":
        return uuid.uuid4().bytes
    if result == "date":
        return serialize(CqlType("date"), micros // 86_400_000_000)
    return serialize(CqlType(result), micros // 1000)


def int_value(term: st.Term | None, name: str, ctx: Context, ctype: str = "int") -> int | None:
    """Evaluate LIMIT/TTL/TIMESTAMP terms to a Python int (None when absent or unset)."""
    if term is None:
        return None
    raw = evaluate(term, Spec(name, CqlType(ctype)), ctx)
    if raw is None:
        raise InvalidRequest(f"Invalid null value of {name}")
    if isinstance(raw, Unset) or raw == b"":
        return None
    return int.from_bytes(raw, "big", signed=True)


def json_term(column: object, value: object) -> st.Term:
    """A JSON value (from INSERT JSON) as a term for the column's type."""
    from .types import serialize as _serialize

    ctype: CqlType = column.ctype  # type: ignore[attr-defined]
    if value is None:
        return st.Literal("null", "null")
    try:
        if ctype.is_collection or ctype.name == "tuple":
            return st.Literal("bytes", _serialize(ctype, value).hex())
        if ctype.name in ("uuid", "timeuuid"):
            return st.Literal("uuid", str(value))
        if ctype.name == "blob":
            return st.Literal("hex", str(value))
        if ctype.name == "boolean":
            return st.Literal("bool", str(value).lower())
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int):
            return st.Literal("int", str(value))
        if isinstance(value, float):
            return st.Literal("float", repr(value))
        if ctype.name in ("int", "bigint", "smallint", "tinyint", "varint", "counter"):
            return st.Literal("int", str(int(str(value))))
        if ctype.name in ("double", "float", "decimal"):
            return st.Literal("float", str(float(str(value))))
        return st.Literal("string", str(value))
    except (ValueError, TypeError):
        raise InvalidRequest(f"Error decoding JSON value for {ctype}: {value!r}") from None
