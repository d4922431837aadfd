"""Inbox app: `uvicorn api.inbox.main:app --port 8222`.

The shared HTTP client, the offline appender (flusher thread) and the push retrier (task) are
created once in the lifespan; at shutdown the retrier stops first, then the appender writes its
last rows, then the client closes.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from api.common.app import create_service_app
from api.common.http import make_http_client
from api.common.offline_append import OfflineAppender, v2_source_dir
from api.inbox.metrics import OFFLINE_PENDING
from api.inbox.pipeline import InboxPipeline
from api.inbox.push_batcher import PushBatcher
from api.inbox.retrier import PushRetrier
from api.inbox.routes import router
from api.inbox.settings import InboxSettings, get_settings
from api.inbox.upstreams import Upstreams

SERVICE = "inbox"
logger = logging.getLogger(__name__)


def create_app(settings: InboxSettings | None = None, *, client: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the app. Tests may inject an httpx client (e.g. over MockTransport); it is not closed here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        http = client or make_http_client(
            timeout_seconds=settings.upstream_timeout_seconds,
            connect_timeout_seconds=settings.upstream_connect_timeout_seconds,
        )
        appender = OfflineAppender(
            v2_source_dir(settings.feature_repo_path),
            flush_interval=settings.offline_flush_seconds,
            max_rows=settings.offline_flush_rows,
        ).start()
        upstreams = Upstreams(http, settings)
        batcher = PushBatcher(lambda rows: upstreams.push_online(rows, attempts=settings.push_attempts),
                              max_rows=settings.push_batch_rows)
        retrier = PushRetrier(upstreams, batcher, appender, initial_delay=settings.retry_initial_seconds,
                              max_delay=settings.retry_max_seconds, batch_size=settings.push_batch_rows)
        retrier.start()
        app.state.appender, app.state.retrier = appender, retrier
        app.state.pipeline = InboxPipeline(upstreams, batcher, retrier, appender)
        logger.info("serving", extra={"feature_server": settings.feature_server_url,
                                      "offline_dir": str(appender.directory)})
        try:
            yield
        finally:
            await retrier.close()
            appender.close()
            if client is None:
                await http.aclose()

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.include_router(router)
    return app


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    # Upstreams being down does not make the inbox unready: it still stores and queues (202).
    if not hasattr(app.state, "pipeline"):
        return None
    OFFLINE_PENDING.set(app.state.appender.pending)
    return {
        "retry_queue": f"ok: {len(app.state.retrier)} queued",
        "offline_pending": f"ok: {app.state.appender.pending} rows",
    }


app = create_app()
