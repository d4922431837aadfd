"""Invalid Unicode is a 422 on every service, never a 500.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); Python's parser accepts it, and the string
then fails later, wherever it is encoded (SQLite, Feast, the error handler echoing it back). Raw
UTF-8 cannot carry a surrogate, so a body without a `\\ud8`..`\\udf` escape is passed on untouched
(one byte scan); only one that has such an escape is parsed here and checked.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.common.errors import validation_error

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogates(value: Any, loc: tuple[str | int, ...] = ("body",)) -> Iterator[tuple[str | int, ...]]:
    """Where in a parsed JSON value a string (or key) holds a lone surrogate."""
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if _LONE_SURROGATE.search(key):
                yield (*loc, "<key>")
            else:
                yield from lone_surrogates(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from lone_surrogates(item, (*loc, index))


def _error(loc: tuple[str | int, ...]) -> dict[str, Any]:
    return validation_error(loc, "String contains a lone UTF-16 surrogate", "string_unicode")


class UnicodeGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if _SURROGATE_ESCAPE.search(body) and (errors := _errors(body)):
            await _reject(send, errors)
            return
        replay = iter(messages)

        async def replay_receive() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replay_receive, send)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


def _errors(body: bytes) -> list[dict[str, Any]]:
    try:
        value = json.loads(body)
    except ValueError:
        return []  # not JSON: the route's own parsing answers it
    return [_error(loc) for loc in lone_surrogates(value)]


async def _reject(send: Send, errors: list[dict[str, Any]]) -> None:
    content = json.dumps({"detail": errors}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})
