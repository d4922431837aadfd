"""Asyncio TCP server speaking CQL native protocol v4 on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

from . import protocol as p
from .errors import CqlError, ProtocolError, ServerError
from .executor import ClientSession, Executor, Node
from .results import SchemaChange

log = logging.getLogger(__name__)
EVENT_TYPES = ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE")
OPCODE_NAMES = {
    p.QUERY: "QUERY",
    p.PREPARE: "PREPARE",
    p.EXECUTE: "EXECUTE",
    p.BATCH: "BATCH",
    p.REGISTER: "REGISTER",
    p.AUTH_RESPONSE: "AUTH_RESPONSE",
}


def system_clock() -> int:
    """Microseconds since the epoch."""
    return time.time_ns() // 1000


class ManualClock:
    """An injectable clock for tests: starts at real time, moves only when advanced."""

    def __init__(self, start_us: int | None = None) -> None:
        self.now_us = system_clock() if start_us is None else start_us

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += int(seconds * 1_000_000)


class Connection:
    def __init__(self, server: CqlEmulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.session = ClientSession()
        self.started = False
        self.events: set[str] = set()

    def send(self, opcode: int, body: bytes, stream: int) -> None:
        self.writer.write(p.encode_frame(opcode, body, stream=stream))

    async def serve(self) -> None:
        try:
            while True:
                header_raw = await self.reader.readexactly(p.HEADER_SIZE)
                version = header_raw[0] & 0x7F
                if version != p.SUPPORTED_VERSION:
                    stream = int.from_bytes(header_raw[2:4], "big", signed=True)
                    err = ProtocolError(
                        f"Invalid or unsupported protocol version ({version}); supported versions are (4/v4)"
                    )
                    self.send(p.ERROR, err.encode(), stream)
                    await self.writer.drain()
                    return
                header = p.decode_header(header_raw)
                if header.length > p.MAX_FRAME_BODY:
                    raise ProtocolError("Request is too big")
                body = await self.reader.readexactly(header.length)
                self.handle(header, body)
                await self.writer.drain()
                await self.server.flush_events()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.server.connections.discard(self)
            with contextlib.suppress(Exception):
                self.writer.close()

    def handle(self, header: p.FrameHeader, body: bytes) -> None:
        try:
            if header.flags & p.FLAG_COMPRESSION:
                raise ProtocolError("Compression is not negotiated on this connection")
            reader = p.Reader(body)
            if header.flags & p.FLAG_CUSTOM_PAYLOAD:
                reader.bytes_map()
            opcode, result = self.dispatch(header.opcode, reader)
            self.send(opcode, result, header.stream)
        except CqlError as err:
            self.send(p.ERROR, err.encode(), header.stream)
        except Exception as exc:  # a bug in the emulator: report it like Cassandra's ServerError
            log.exception("CQL emulator failed on opcode %s", header.opcode)
            self.send(p.ERROR, ServerError(f"{type(exc).__name__}: {exc}").encode(), header.stream)

    def dispatch(self, opcode: int, reader: p.Reader) -> tuple[int, bytes]:
        executor = self.server.executor
        if opcode == p.OPTIONS:
            supported = {"CQL_VERSION": ["3.4.6"], "COMPRESSION": [], "PROTOCOL_VERSIONS": ["4/v4"]}
            return p.SUPPORTED, p.w_string_multimap(supported)
        if opcode == p.STARTUP:
            options = reader.string_map()
            if "CQL_VERSION" not in options:
                raise ProtocolError("Missing value CQL_VERSION in STARTUP message")
            if options.get("COMPRESSION"):
                raise ProtocolError(f"Unknown compression algorithm: {options['COMPRESSION']}")
            self.started = True
            return p.READY, b""
        if not self.started:
            name = OPCODE_NAMES.get(opcode, hex(opcode))
            raise ProtocolError(f"Unexpected message {name}, expecting STARTUP or OPTIONS")
        if opcode == p.REGISTER:
            for event in reader.string_list():
                if event not in EVENT_TYPES:
                    raise ProtocolError(f"Invalid value '{event}' for Type")
                self.events.add(event)
            return p.READY, b""
        if opcode == p.QUERY:
            text = reader.long_string()
            params = p.read_query_parameters(reader)
            return p.RESULT, executor.query(text, params, self.session).encode()
        if opcode == p.PREPARE:
            return p.RESULT, executor.prepare(reader.long_string(), self.session).encode()
        if opcode == p.EXECUTE:
            query_id = reader.short_bytes()
            params = p.read_query_parameters(reader)
            result = executor.execute(query_id, params, self.session)
            return p.RESULT, result.encode(skip_metadata=params.skip_metadata)
        if opcode == p.BATCH:
            return p.RESULT, executor.batch(p.read_batch(reader), self.session).encode()
        raise ProtocolError(f"Unknown opcode {opcode}")


class CqlEmulator:
    """A single-node 'cluster' on host:port. Use ``await start()``/``stop()`` or the thread helpers."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data_center: str = "datacenter1",
        cluster_name: str = "cql-emulator",
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock: Callable[[], int] = clock or system_clock
        self.node = Node(host=host, port=port, cluster_name=cluster_name, data_center=data_center)
        self.executor = Executor(self.node, lambda: self.clock(), self._queue_event)
        self.connections: set[Connection] = set()
        self._pending: list[SchemaChange] = []
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _queue_event(self, change: SchemaChange) -> None:
        self._pending.append(change)

    async def flush_events(self) -> None:
        pending, self._pending = self._pending, []
        for change in pending:
            frame = p.encode_frame(p.EVENT, change.event(), stream=-1)
            for conn in list(self.connections):
                if "SCHEMA_CHANGE" in conn.events:
                    conn.writer.write(frame)
        if pending:
            for conn in list(self.connections):
                with contextlib.suppress(ConnectionError):
                    await conn.writer.drain()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        await conn.serve()

    async def start(self) -> CqlEmulator:
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.node.port = self.port
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self.connections):
                conn.writer.close()
            await self._server.wait_closed()
            self._server = None

    def clear_prepared(self) -> None:
        """Forget every prepared statement, so the next EXECUTE gets UNPREPARED."""
        self.executor.prepared.clear()

    # -- sync helpers -------------------------------------------------------------------------
    def start_in_thread(self) -> CqlEmulator:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # surfaced to the caller below
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="cql-emulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None
            self._thread = None
