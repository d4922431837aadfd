"""A connection closed with a reset frees its protocol at once (api.common.http_protocol)."""

import gc
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.common.http_protocol import ResetSafeHttpToolsProtocol
from tests.api.common.load_client import ABORT_ON_CLOSE
from tests.fixtures.processes import free_port

KEEP_ALIVE_SECONDS = 30  # far longer than the test waits: a protocol freed in time was not freed by the timer


async def app(scope: dict, receive: object, send: object) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


@contextmanager
def serve(protocol: type[HttpToolsProtocol]) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=protocol, lifespan="off", log_level="warning",
                            timeout_keep_alive=KEEP_ALIVE_SECONDS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def request_then_reset(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ABORT_ON_CLOSE)


def alive(protocol: type[HttpToolsProtocol]) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is protocol)


def alive_after_reset(protocol: type[HttpToolsProtocol]) -> int:
    with serve(protocol) as port:
        request_then_reset(port)
        deadline = time.monotonic() + 2
        while alive(protocol) and time.monotonic() < deadline:
            time.sleep(0.05)
        return alive(protocol)


@pytest.mark.parametrize(("protocol", "kept"), [(ResetSafeHttpToolsProtocol, 0), (HttpToolsProtocol, 1)])
def test_a_reset_connection_keeps_its_protocol_alive_only_under_uvicorns_own(
    protocol: type[HttpToolsProtocol], kept: int
) -> None:
    # uvicorn's own protocol is the control: if a uvicorn release stops keeping it, the subclass can go.
    assert alive_after_reset(protocol) == kept
