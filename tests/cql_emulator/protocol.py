"""CQL native protocol v4 framing and notation codecs (native_protocol_v4.spec sections 2-3)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .errors import ProtocolError

HEADER = struct.Struct(">BBhBi")
HEADER_SIZE = HEADER.size
MAX_FRAME_BODY = 256 * 1024 * 1024
SUPPORTED_VERSION = 4
RESPONSE_BIT = 0x80

# Opcodes
ERROR = 0x00
STARTUP = 0x01
READY = 0x02
AUTHENTICATE = 0x03
OPTIONS = 0x05
SUPPORTED = 0x06
QUERY = 0x07
RESULT = 0x08
PREPARE = 0x09
EXECUTE = 0x0A
REGISTER = 0x0B
EVENT = 0x0C
BATCH = 0x0D
AUTH_RESPONSE = 0x0F

# Frame header flags
FLAG_COMPRESSION = 0x01
FLAG_TRACING = 0x02
FLAG_CUSTOM_PAYLOAD = 0x04
FLAG_WARNING = 0x08

# Query parameter flags
Q_VALUES = 0x01
Q_SKIP_METADATA = 0x02
Q_PAGE_SIZE = 0x04
Q_PAGING_STATE = 0x08
Q_SERIAL_CONSISTENCY = 0x10
Q_DEFAULT_TIMESTAMP = 0x20
Q_NAMES_FOR_VALUES = 0x40

# RESULT kinds
VOID = 0x0001
ROWS = 0x0002
SET_KEYSPACE = 0x0003
PREPARED = 0x0004
SCHEMA_CHANGE = 0x0005

# Rows metadata flags
META_GLOBAL_TABLES_SPEC = 0x0001
META_HAS_MORE_PAGES = 0x0002
META_NO_METADATA = 0x0004

CONSISTENCY_NAMES = {
    0x0000: "ANY",
    0x0001: "ONE",
    0x0002: "TWO",
    0x0003: "THREE",
    0x0004: "QUORUM",
    0x0005: "ALL",
    0x0006: "LOCAL_QUORUM",
    0x0007: "EACH_QUORUM",
    0x0008: "SERIAL",
    0x0009: "LOCAL_SERIAL",
    0x000A: "LOCAL_ONE",
}


class Unset:
    """The [value] of length -2: a bind marker left unset (protocol v4)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()
Value = bytes | None | Unset


class Reader:
    """Reads the [notation] types of section 3 from a frame body."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ProtocolError("Not enough bytes to read the message body")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def byte(self) -> int:
        return self._take(1)[0]

    def short(self) -> int:
        return int(struct.unpack(">H", self._take(2))[0])

    def int(self) -> int:
        return int(struct.unpack(">i", self._take(4))[0])

    def long(self) -> int:
        return int(struct.unpack(">q", self._take(8))[0])

    def string(self) -> str:
        return self._take(self.short()).decode("utf-8")

    def long_string(self) -> str:
        return self._take(self.int()).decode("utf-8")

    def short_bytes(self) -> bytes:
        return self._take(self.short())

    def bytes(self) -> bytes | None:
        size = self.int()
        return None if size < 0 else self._take(size)

    def value(self) -> Value:
        size = self.int()
        if size == -1:
            return None
        if size == -2:
            return UNSET
        if size < -2:
            raise ProtocolError(f"Invalid value length {size}")
        return self._take(size)

    def string_list(self) -> list[str]:
        return [self.string() for _ in range(self.short())]

    def string_map(self) -> dict[str, str]:
        return {self.string(): self.string() for _ in range(self.short())}

    def bytes_map(self) -> dict[str, bytes | None]:
        return {self.string(): self.bytes() for _ in range(self.short())}


def w_short(value: int) -> bytes:
    return struct.pack(">H", value)


def w_int(value: int) -> bytes:
    return struct.pack(">i", value)


def w_long(value: int) -> bytes:
    return struct.pack(">q", value)


def w_string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return w_short(len(raw)) + raw


def w_long_string(value: str) -> bytes:
    raw = value.encode("utf-8")
    return w_int(len(raw)) + raw


def w_bytes(value: bytes | None) -> bytes:
    return w_int(-1) if value is None else w_int(len(value)) + value


def w_short_bytes(value: bytes) -> bytes:
    return w_short(len(value)) + value


def w_string_list(values: list[str]) -> bytes:
    return w_short(len(values)) + b"".join(w_string(v) for v in values)


def w_string_multimap(values: dict[str, list[str]]) -> bytes:
    return w_short(len(values)) + b"".join(w_string(k) + w_string_list(v) for k, v in values.items())


@dataclass(frozen=True)
class FrameHeader:
    version: int
    flags: int
    stream: int
    opcode: int
    length: int


def decode_header(raw: bytes) -> FrameHeader:
    version, flags, stream, opcode, length = HEADER.unpack(raw)
    return FrameHeader(version & 0x7F, flags, stream, opcode, length)


def encode_frame(opcode: int, body: bytes, *, stream: int, version: int = SUPPORTED_VERSION) -> bytes:
    return HEADER.pack(version | RESPONSE_BIT, 0, stream, opcode, len(body)) + body


@dataclass
class QueryParameters:
    """<consistency><flags>[<n>[name_1]<value_1>...][<result_page_size>][<paging_state>]..."""

    consistency: int = 1
    values: list[Value] = field(default_factory=list)
    names: list[str] | None = None
    skip_metadata: bool = False
    page_size: int | None = None
    paging_state: bytes | None = None
    serial_consistency: int | None = None
    timestamp: int | None = None


def read_query_parameters(reader: Reader) -> QueryParameters:
    params = QueryParameters(consistency=reader.short())
    flags = reader.byte()
    if flags & Q_VALUES:
        count = reader.short()
        if flags & Q_NAMES_FOR_VALUES:
            params.names = []
            for _ in range(count):
                params.names.append(reader.string())
                params.values.append(reader.value())
        else:
            params.values = [reader.value() for _ in range(count)]
    params.skip_metadata = bool(flags & Q_SKIP_METADATA)
    if flags & Q_PAGE_SIZE:
        params.page_size = reader.int()
    if flags & Q_PAGING_STATE:
        params.paging_state = reader.bytes()
    if flags & Q_SERIAL_CONSISTENCY:
        params.serial_consistency = reader.short()
    if flags & Q_DEFAULT_TIMESTAMP:
        params.timestamp = reader.long()
        if params.timestamp == -(2**63):
            raise ProtocolError("Out of bound timestamp, must be in [-2^63 + 1, 2^63 - 1]")
    return params


@dataclass
class BatchChild:
    query: str | None
    prepared_id: bytes | None
    values: list[Value]


@dataclass
class BatchMessage:
    kind: int
    children: list[BatchChild]
    consistency: int
    serial_consistency: int | None
    timestamp: int | None


def read_batch(reader: Reader) -> BatchMessage:
    kind = reader.byte()
    if kind not in (0, 1, 2):
        raise ProtocolError(f"Invalid BATCH message type {kind}")
    children = []
    for _ in range(reader.short()):
        child_kind = reader.byte()
        if child_kind == 0:
            query, prepared_id = reader.long_string(), None
        elif child_kind == 1:
            query, prepared_id = None, reader.short_bytes()
        else:
            raise ProtocolError(f"Invalid query kind in BATCH messages. Must be 0 or 1 but got {child_kind}")
        values = [reader.value() for _ in range(reader.short())]
        children.append(BatchChild(query, prepared_id, values))
    consistency = reader.short()
    flags = reader.byte()
    serial = reader.short() if flags & Q_SERIAL_CONSISTENCY else None
    timestamp = reader.long() if flags & Q_DEFAULT_TIMESTAMP else None
    return BatchMessage(kind, children, consistency, serial, timestamp)
