"""Inbox app: `uvicorn api.inbox.main:app --port 8222` (several workers: api.common.serve).

The shared HTTP client, the pipeline (its batchers) and the recovery loop are created once per
worker in the lifespan; at shutdown the recovery loop stops first, then running batches finish,
then the client closes.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.common.app import create_service_app
from api.common.auth import outbound_api_key
from api.common.http import make_http_client
from api.inbox.peers import BatchPeers, group_name
from api.inbox.pipeline import InboxPipeline
from api.inbox.recovery import PendingRecovery
from api.inbox.routes import router
from api.inbox.settings import InboxSettings, get_settings
from api.inbox.upstreams import Upstreams

SERVICE = "inbox"
logger = logging.getLogger(__name__)


def create_app(settings: InboxSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        http = make_http_client(
            timeout_seconds=settings.upstream_timeout_seconds,
            connect_timeout_seconds=settings.upstream_connect_timeout_seconds,
        )
        upstreams = Upstreams(http, settings)
        pipeline = app.state.pipeline = InboxPipeline(upstreams, settings)
        if settings.ingest_share_batches:
            pipeline.peers = _peers(settings, pipeline)
        recovery = app.state.recovery = PendingRecovery(upstreams, settings)
        recovery.start()
        logger.info("serving", extra={"feature_server": settings.feature_server_url})
        try:
            yield
        finally:
            await recovery.close()
            if pipeline.peers is not None:
                await pipeline.peers.close()
            await pipeline.close()
            await http.close()

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.include_router(router)
    return app


def _peers(settings: InboxSettings, pipeline: InboxPipeline) -> BatchPeers:
    # Inboxes share batches only with those that reach the same upstreams under the same key.
    name = group_name(settings.user_data_url, settings.model_serving_url, settings.feature_server_url,
                      outbound_api_key(settings, settings.inbox_caller_name))
    return BatchPeers(name, pipeline.serve_peer, timeout_seconds=settings.upstream_max_seconds)


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    # Upstreams being down does not make the inbox unready: it still stores with the push pending (202).
    if not hasattr(app.state, "recovery"):
        return None
    return {"recovery": "ok: running" if app.state.recovery.running else "stopped"}


app = create_app()
