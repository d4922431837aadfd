"""Per-request dependencies of the model routes.

What does not change between requests (model, cache, stores, settings) is handed to the router
factory once instead (`Serving`): on 2 cores FastAPI spends ~35 µs resolving each dependency on
every request (docs/benchmarks.md). Providers are `async def` on purpose: FastAPI runs a plain
`def` dependency in the thread pool.
"""

from typing import Annotated

from fastapi import Depends, Request

from api.common.errors import InvalidInput

MAX_CALLER_ID_LENGTH = 128
CALLER_HEADER = "x-caller-id"


async def get_caller_id(request: Request) -> str:
    """The caller named by X-Caller-Id, else the client host: whose calls `recent_call_log` shows.

    Read from the headers directly rather than as a `Header()` parameter: one less thing for
    FastAPI to resolve on every prediction.
    """
    caller = request.headers.get(CALLER_HEADER, "").strip()
    if len(caller) > MAX_CALLER_ID_LENGTH:
        raise InvalidInput(f"X-Caller-Id is longer than {MAX_CALLER_ID_LENGTH} characters ({len(caller)})")
    if caller:
        return caller
    return request.client.host if request.client else "unknown"


CallerIdDep = Annotated[str, Depends(get_caller_id)]
