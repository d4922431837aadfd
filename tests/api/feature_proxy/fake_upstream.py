"""A real HTTP upstream on a loopback port for client tests, and addresses that refuse or never accept.

The server runs aiohttp.web in its own thread and event loop, so it answers both async tests and
Starlette's TestClient (which runs the app under test in yet another thread). Tests swap `handler`
to simulate failures; every request that reached the server is recorded.
"""

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
START_TIMEOUT_SECONDS = 5.0
# Slow handlers sleep this long; far past any client budget in the tests, cancelled at stop.
SLOW_SECONDS = 30.0
# How many pending connects fill a listen(0) backlog on Linux (queue length is backlog + 1), with margin.
BACKLOG_FILLERS = 3


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def answer(status: int = 200, *, json: Any = None, text: str | None = None, body: bytes | None = None) -> Handler:
    """A handler that always gives this answer (JSON when `json` is given)."""

    async def handler(_: web.Request) -> web.StreamResponse:
        if json is not None:
            return web.json_response(json, status=status)
        return web.Response(status=status, text=text, body=body)

    return handler


async def slow(_: web.Request) -> web.StreamResponse:
    await asyncio.sleep(SLOW_SECONDS)
    return web.Response()


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket before answering: the client sees a server disconnect, not a timeout."""
    assert request.transport is not None
    request.transport.close()
    await asyncio.sleep(SLOW_SECONDS)
    return web.Response()


class FakeUpstream:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-upstream", daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> "FakeUpstream":
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(START_TIMEOUT_SECONDS)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(START_TIMEOUT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_SECONDS)
        self._loop.close()

    async def _serve(self) -> int:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        # handler_cancellation: like a real server, stop a handler whose client hung up.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        # Port 0 bound and kept: no window in which another process could take the port.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=0.1)
        await site.start()
        return self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Handlers still sleeping (their client gave up, or never disconnected) end here, not at loop close.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Received(request.method, request.path, dict(request.query), dict(request.headers), body))
        return await self.handler(request)


@contextlib.contextmanager
def running_upstream(handler: Handler) -> Iterator[FakeUpstream]:
    upstream = FakeUpstream(handler).start()
    try:
        yield upstream
    finally:
        upstream.stop()


@contextlib.contextmanager
def refusing_url() -> Iterator[str]:
    """A URL whose port is bound but not listening: every connect is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def never_accepting_url() -> Iterator[str]:
    """A URL whose listen backlog is full: the kernel drops new SYNs, so a connect hangs until its timeout."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(BACKLOG_FILLERS):
            filler = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            filler.setblocking(False)
            filler.connect_ex(address)
        yield f"http://127.0.0.1:{address[1]}"
