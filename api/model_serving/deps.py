"""Per-request dependencies of the model routes.

What does not change between requests (models, caches, stores, settings) is handed to the router
factory once instead (`Serving`): on 2 cores FastAPI spends ~35 µs resolving each dependency on
every request (docs/benchmarks.md). Providers are `async def` on purpose: FastAPI runs a plain
`def` dependency in the thread pool.
"""

from typing import Annotated

from fastapi import Depends, Request


async def get_caller(request: Request) -> str:
    """Who is calling: the client address as uvicorn resolved it."""
    return f"addr:{request.client.host if request.client else 'unknown'}"


CallerDep = Annotated[str, Depends(get_caller)]
