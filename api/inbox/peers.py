"""The inbox's workers share one batcher, the leader's: concurrent messages across workers share one store
call, one features call and one push, as they do within a worker (measured: docs/benchmarks.md).

The first worker to bind a Linux abstract Unix socket, named after the inbox's upstreams and key, leads.
The kernel frees the name when that process dies, so the next worker that finds no leader takes over.
A follower sends each of its batches to the leader, which submits the items to its own batcher and
answers each item with its outcome or its error (api.inbox.pipeline encodes both). An item left without
an answer (the leader died, timed out or is shutting down) the follower runs itself. Each item carries the
sms_id it got on receipt, and every store is idempotent per sms_id, so nothing is doubled. Only
processes of the same user may connect (SO_PEERCRED). Where abstract sockets do not exist (not Linux),
every worker runs its own batches.
"""

import asyncio
import errno
import hashlib
import itertools
import json
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from api.inbox.schemas import InboxSms, Incoming

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
_MAX_FRAME = 4 << 20  # bytes; a full batch (64 texts of 5,000 characters, 6 bytes each escaped) is ~2 MiB
_PEERCRED = struct.Struct("3i")  # pid, uid, gid


GROUP_PREFIX = "spamops-inbox-"


def group_name(*parts: str) -> str:
    """One name per set of interchangeable inboxes: the same upstreams under the same key."""
    return GROUP_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


Answer = list[Any]  # JSON: what the leader's pipeline made of one item
ServeBatch = Callable[[list[Incoming]], Awaitable[Sequence[Answer | None]]]


def _frame(value: object) -> bytes:
    body = json.dumps(value, separators=(",", ":")).encode()
    return _LENGTH.pack(len(body)) + body


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > _MAX_FRAME:
        raise ConnectionError(f"frame of {length} bytes")
    return json.loads(await reader.readexactly(length))


class _Link:
    """A follower's one connection to the leader; calls are multiplexed by id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[list[Any]]] = {}
        self._reading = asyncio.create_task(self._read(reader), name="inbox-peer-link")

    @property
    def open(self) -> bool:
        return not self._reading.done()

    async def call(self, payload: list[Any]) -> list[Any]:
        call_id = next(self._ids)
        future = self._waiting[call_id] = asyncio.get_running_loop().create_future()
        try:
            self._writer.write(_frame([call_id, payload]))
            return await future
        finally:
            self._waiting.pop(call_id, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                call_id, answers = await _read_frame(reader)
                future = self._waiting.get(call_id)
                if future is not None and not future.done():
                    future.set_result(answers)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError):
            pass  # the leader is gone
        finally:
            # Closed or cut off, every call still waiting runs in its own worker at once, not at its timeout.
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError("no answer from the leading inbox worker"))
            self._writer.close()

    def close(self) -> None:
        self._reading.cancel()


class BatchPeers:
    """One per worker, created in the lifespan. `forward` asks the leader to run a batch."""

    def __init__(self, name: str, serve: ServeBatch, *, timeout_seconds: float) -> None:
        self._address = "\0" + name
        self._serve = serve
        self.timeout_seconds = timeout_seconds
        self._server: asyncio.Server | None = None
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._supported = True
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def leading(self) -> bool:
        return self._server is not None

    async def forward(self, batch: Sequence[Incoming]) -> list[Answer | None]:
        """The leader's answer for each item; None for each the caller must run itself (also when this
        worker leads, or no leader answers in time)."""
        link = await self._leader_link()
        if link is None:
            return [None] * len(batch)
        try:
            answers = await asyncio.wait_for(link.call([_encode(item) for item in batch]), self.timeout_seconds)
        except (ConnectionError, TimeoutError) as exc:
            logger.warning("inbox leader did not answer; running the batch here", extra={"error": repr(exc)})
            return [None] * len(batch)
        return answers

    async def _leader_link(self) -> _Link | None:
        if self._server is not None or not self._supported:
            return None
        if self._link is not None and self._link.open:
            return self._link
        async with self._connecting:
            if self._link is None or not self._link.open:
                self._link = await self._connect_or_lead()
        return self._link

    async def _connect_or_lead(self) -> _Link | None:
        try:
            return _Link(*await asyncio.open_unix_connection(sock=await self._connected_socket()))
        except (ConnectionRefusedError, FileNotFoundError):
            pass  # no leader: this worker takes over
        except OSError as exc:
            self._unsupported(exc)
            return None
        try:
            self._server = await asyncio.start_unix_server(self._accept, path=self._address)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:  # else another worker took over first: connect next time
                self._unsupported(exc)
            return None
        logger.info("leading the inbox's batches")
        return None

    async def _connected_socket(self) -> socket.socket:
        # uvloop rejects an abstract address given as a path (EINVAL): connect a socket of our own.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, self._address)
        except BaseException:
            sock.close()
            raise
        return sock

    def _unsupported(self, exc: OSError) -> None:
        self._supported = False
        logger.warning("inbox workers cannot share batches here; each runs its own", extra={"error": repr(exc)})

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            if _peer_uid(writer) == os.getuid():
                await self._answer_calls(reader, writer)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError):
            pass  # the follower went away: it runs its own unanswered items
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _answer_calls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        calls: set[asyncio.Task[None]] = set()
        while True:
            call_id, items = await _read_frame(reader)
            call = asyncio.create_task(self._answer(writer, call_id, [_decode(item) for item in items]))
            calls.add(call)
            call.add_done_callback(calls.discard)

    async def _answer(self, writer: asyncio.StreamWriter, call_id: int, batch: list[Incoming]) -> None:
        answers = await self._serve(batch)
        if not writer.is_closing():
            writer.write(_frame([call_id, list(answers)]))

    async def close(self) -> None:
        """Stop leading (followers then run their own batches until one takes over) and following."""
        if self._link is not None:
            self._link.close()
        if self._server is not None:
            self._server.close()
            for handler in list(self._handlers):
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)


def _peer_uid(writer: asyncio.StreamWriter) -> int:
    sock: socket.socket = writer.get_extra_info("socket")
    _, uid, _ = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    return uid


def _encode(item: Incoming) -> list[Any]:
    sms = item.sms
    return [str(item.sms_id), sms.recipient_id, sms.sender_id, sms.sms_text, item.idempotency_key]


def _decode(fields: list[Any]) -> Incoming:
    sms_id, recipient_id, sender_id, sms_text, idempotency_key = fields
    # A follower of the same user validated the body on receipt.
    sms = InboxSms.model_construct(recipient_id=recipient_id, sender_id=sender_id, sms_text=sms_text)
    return Incoming(sms, idempotency_key, UUID(sms_id))
