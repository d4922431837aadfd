"""Framing and message handling, with a raw socket client speaking native protocol v4."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from tests.cql_emulator import CqlEmulator
from tests.cql_emulator import protocol as p
from tests.cql_emulator.errors import ALREADY_EXISTS, INVALID, PROTOCOL_ERROR, UNPREPARED

pytestmark = pytest.mark.cassandra


class RawClient:
    def __init__(self, emulator: CqlEmulator, version: int = 4) -> None:
        self.sock = socket.create_connection((emulator.host, emulator.port), timeout=5)
        self.version = version

    def send(self, opcode: int, body: bytes, stream: int = 1, version: int | None = None) -> None:
        self.sock.sendall(struct.pack(">BBhBi", version or self.version, 0, stream, opcode, len(body)) + body)

    def recv(self) -> tuple[p.FrameHeader, bytes]:
        header = p.decode_header(self._exactly(p.HEADER_SIZE))
        return header, self._exactly(header.length)

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def request(self, opcode: int, body: bytes, stream: int = 1) -> tuple[p.FrameHeader, p.Reader]:
        self.send(opcode, body, stream)
        header, payload = self.recv()
        return header, p.Reader(payload)

    def startup(self) -> None:
        header, _ = self.request(p.STARTUP, p.w_short(1) + p.w_string("CQL_VERSION") + p.w_string("3.0.0"))
        assert header.opcode == p.READY

    def query(self, cql: str, flags: int = 0, extra: bytes = b"") -> tuple[p.FrameHeader, p.Reader]:
        return self.request(p.QUERY, p.w_long_string(cql) + p.w_short(1) + bytes([flags]) + extra)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[CqlEmulator]:
    emu = CqlEmulator().start_in_thread()
    yield emu
    emu.stop_thread()


@pytest.fixture()
def client(emulator: CqlEmulator) -> Iterator[RawClient]:
    c = RawClient(emulator)
    yield c
    c.close()


def test_options_returns_supported_multimap(client: RawClient) -> None:
    header, body = client.request(p.OPTIONS, b"", stream=7)
    assert (header.opcode, header.stream, header.version) == (p.SUPPORTED, 7, 4)
    options = {body.string(): body.string_list() for _ in range(body.short())}
    assert options["CQL_VERSION"] == ["3.4.6"]


@pytest.mark.parametrize("version", [5, 65, 66, 3])
def test_unsupported_version_gets_protocol_error_driver_downgrades_on(emulator: CqlEmulator, version: int) -> None:
    client = RawClient(emulator, version)
    client.send(p.OPTIONS, b"", stream=3)
    header, payload = client.recv()
    body = p.Reader(payload)
    assert (header.opcode, header.stream, header.version) == (p.ERROR, 3, 4)
    assert body.int() == PROTOCOL_ERROR
    assert "unsupported protocol version" in body.string()
    client.close()


def test_query_before_startup_is_protocol_error(client: RawClient) -> None:
    header, body = client.query("SELECT * FROM system.local")
    assert header.opcode == p.ERROR and body.int() == PROTOCOL_ERROR


def test_startup_without_cql_version_is_protocol_error(client: RawClient) -> None:
    header, body = client.request(p.STARTUP, p.w_short(0))
    assert header.opcode == p.ERROR and body.int() == PROTOCOL_ERROR


def test_query_returns_rows_with_global_table_spec(client: RawClient) -> None:
    client.startup()
    header, body = client.query("SELECT key, release_version FROM system.local")
    assert header.opcode == p.RESULT and body.int() == p.ROWS
    flags, count = body.int(), body.int()
    assert flags & p.META_GLOBAL_TABLES_SPEC and count == 2
    assert (body.string(), body.string()) == ("system", "local")
    assert (body.string(), body.short()) == ("key", 0x000D)
    assert (body.string(), body.short()) == ("release_version", 0x000D)
    assert body.int() == 1
    assert body.bytes() == b"local"


def test_paging_state_and_has_more_pages_flag(client: RawClient) -> None:
    client.startup()
    client.query(
        "CREATE KEYSPACE IF NOT EXISTS raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    client.query("CREATE TABLE IF NOT EXISTS raw.p (k int, c int, PRIMARY KEY (k, c))")
    for c in range(5):
        client.query(f"INSERT INTO raw.p (k, c) VALUES (1, {c})")
    _, body = client.query("SELECT c FROM raw.p WHERE k = 1", p.Q_PAGE_SIZE, p.w_int(2))
    assert body.int() == p.ROWS
    flags, _count = body.int(), body.int()
    assert flags & p.META_HAS_MORE_PAGES
    state = body.bytes()
    assert state
    extra = p.w_int(2) + p.w_bytes(state)
    _, body = client.query("SELECT c FROM raw.p WHERE k = 1", p.Q_PAGE_SIZE | p.Q_PAGING_STATE, extra)
    body.int()
    assert body.int() & p.META_HAS_MORE_PAGES


def test_execute_unknown_id_is_unprepared_with_id(client: RawClient) -> None:
    client.startup()
    header, body = client.request(p.EXECUTE, p.w_short_bytes(b"\x01" * 16) + p.w_short(1) + b"\x00")
    assert header.opcode == p.ERROR and body.int() == UNPREPARED
    body.string()
    assert body.short_bytes() == b"\x01" * 16


def test_prepare_then_execute_with_wrong_length_int_is_invalid(client: RawClient) -> None:
    client.startup()
    client.query(
        "CREATE KEYSPACE IF NOT EXISTS raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    client.query("CREATE TABLE IF NOT EXISTS raw.i (k int PRIMARY KEY, v text)")
    header, body = client.request(p.PREPARE, p.w_long_string("SELECT v FROM raw.i WHERE k = ?"))
    assert body.int() == p.PREPARED
    query_id = body.short_bytes()
    flags, count, pk_count = body.int(), body.int(), body.int()
    assert (count, pk_count, body.short()) == (1, 1, 0)
    assert flags & p.META_GLOBAL_TABLES_SPEC
    params = p.w_short(1) + bytes([p.Q_VALUES]) + p.w_short(1) + p.w_bytes(b"\x00\x01\x02")
    header, body = client.request(p.EXECUTE, p.w_short_bytes(query_id) + params)
    assert header.opcode == p.ERROR and body.int() == INVALID


def test_already_exists_error_carries_keyspace_and_table(client: RawClient) -> None:
    client.startup()
    client.query(
        "CREATE KEYSPACE IF NOT EXISTS raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    client.query("CREATE TABLE IF NOT EXISTS raw.dup (k int PRIMARY KEY)")
    _, body = client.query("CREATE TABLE raw.dup (k int PRIMARY KEY)")
    assert body.int() == ALREADY_EXISTS
    body.string()
    assert (body.string(), body.string()) == ("raw", "dup")


def test_schema_change_result_and_pushed_event(emulator: CqlEmulator, client: RawClient) -> None:
    listener = RawClient(emulator)
    listener.startup()
    header, _ = listener.request(p.REGISTER, p.w_string_list(["SCHEMA_CHANGE"]))
    assert header.opcode == p.READY
    client.startup()
    header, body = client.query(
        "CREATE KEYSPACE evt WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    assert body.int() == p.SCHEMA_CHANGE
    assert (body.string(), body.string(), body.string()) == ("CREATED", "KEYSPACE", "evt")
    header, payload = listener.recv()
    event = p.Reader(payload)
    assert (header.opcode, header.stream) == (p.EVENT, -1)
    assert [event.string() for _ in range(4)] == ["SCHEMA_CHANGE", "CREATED", "KEYSPACE", "evt"]
    listener.close()


def test_create_if_not_exists_on_existing_returns_void(client: RawClient) -> None:
    client.startup()
    ddl = "CREATE KEYSPACE IF NOT EXISTS raw WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    client.query(ddl)
    _, body = client.query(ddl)
    assert body.int() == p.VOID


def test_read_query_parameters_all_flags() -> None:
    flags = (
        p.Q_VALUES
        | p.Q_NAMES_FOR_VALUES
        | p.Q_PAGE_SIZE
        | p.Q_PAGING_STATE
        | p.Q_SERIAL_CONSISTENCY
        | p.Q_DEFAULT_TIMESTAMP
    )
    raw = (
        p.w_short(6)
        + bytes([flags])
        + p.w_short(2)
        + p.w_string("a")
        + p.w_bytes(b"x")
        + p.w_string("b")
        + p.w_int(-2)
        + p.w_int(100)
        + p.w_bytes(b"ps")
        + p.w_short(9)
        + p.w_long(42)
    )
    params = p.read_query_parameters(p.Reader(raw))
    assert params.consistency == 6 and params.names == ["a", "b"]
    assert params.values == [b"x", p.UNSET]
    assert (params.page_size, params.paging_state, params.serial_consistency, params.timestamp) == (100, b"ps", 9, 42)


def test_read_batch_mixes_query_and_prepared_children() -> None:
    raw = (
        bytes([1])
        + p.w_short(2)
        + bytes([0])
        + p.w_long_string("INSERT")
        + p.w_short(0)
        + bytes([1])
        + p.w_short_bytes(b"id")
        + p.w_short(1)
        + p.w_bytes(None)
        + p.w_short(1)
        + bytes([p.Q_DEFAULT_TIMESTAMP])
        + p.w_long(7)
    )
    batch = p.read_batch(p.Reader(raw))
    assert batch.kind == 1 and batch.timestamp == 7
    assert batch.children[0].query == "INSERT" and batch.children[1].prepared_id == b"id"
    assert batch.children[1].values == [None]
