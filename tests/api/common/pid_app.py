"""Minimal ASGI apps for the serve tests: `app` answers every request with the worker's process id."""

import os
from collections.abc import Callable
from typing import Any

ASGIApp = Callable[[dict, Any, Any], Any]


def answering(body: Callable[[], bytes]) -> ASGIApp:
    """An app with an empty lifespan that answers every request with `body()`."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                done = "startup" if message["type"] == "lifespan.startup" else "shutdown"
                await send({"type": f"lifespan.{done}.complete"})
                if done == "shutdown":
                    return
        content = body()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(content))]})
        await send({"type": "http.response.body", "body": content})

    return app


app = answering(lambda: str(os.getpid()).encode())
