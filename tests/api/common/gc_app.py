"""A minimal ASGI app for the serve tests: answers with how many objects the worker's collector never walks
(frozen) and how many it does walk in the oldest generation."""

import gc
import json


async def app(scope: dict, receive: object, send: object) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()  # type: ignore[operator]
            done = "startup" if message["type"] == "lifespan.startup" else "shutdown"
            await send({"type": f"lifespan.{done}.complete"})  # type: ignore[operator]
            if done == "shutdown":
                return
    body = json.dumps({"frozen": gc.get_freeze_count(), "oldest": len(gc.get_objects(2))}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]
