"""Model-serving app: `uvicorn api.model_serving.main:app --port 8000`.

Models, stores and the Feast FeatureStore are created once in the lifespan; a model that fails to
load (unknown version, missing artifact, hash mismatch) stops start-up with the reason.
"""

import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.common.app import create_service_app
from api.common.storage import Stores, make_stores
from api.common.write_behind import WriteBehind
from api.model_serving.call_log import CallRecorder
from api.model_serving.feature_reader import FeastFeatureReader, FeatureReader
from api.model_serving.models import SpamModel
from api.model_serving.rate_limit import RateLimiter
from api.model_serving.registry import load_models
from api.model_serving.router_factory import make_model_router
from api.model_serving.serving import Serving
from api.model_serving.settings import ModelServingSettings, get_settings

SERVICE = "model_serving"
logger = logging.getLogger(__name__)


def create_app(
    settings: ModelServingSettings | None = None,
    *,
    models: Sequence[SpamModel] | None = None,
    stores: Stores | None = None,
    feature_reader: FeatureReader | None = None,
) -> FastAPI:
    """Build the app. Tests may inject models/stores/reader; injected objects are not closed here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        routes_before = list(app.router.routes)
        loaded = (
            list(models)
            if models is not None
            else await run_in_threadpool(
                load_models, settings.spam_model_versions, settings.models_dir, settings.spam_model_plugins
            )
        )
        own_stores, own_reader = stores is None, feature_reader is None
        app_stores = make_stores(settings) if stores is None else stores
        reader = (
            FeastFeatureReader(settings.feature_repo_path, fs_yaml_file=settings.feast_yaml_path)
            if feature_reader is None
            else feature_reader
        )
        writer = WriteBehind(SERVICE, batch=app_stores.backend.write_batch)
        serving = Serving(settings, loaded, persisted=app_stores.prediction_cache, reader=reader, writer=writer)
        recorder = CallRecorder(app_stores.call_log, writer, raw_inputs=settings.call_log_raw_inputs,
                                window_seconds=settings.call_log_window_seconds)
        limiter = RateLimiter(app_stores.rate_counts, window_seconds=settings.rate_limit_window_seconds,
                              sync_seconds=settings.rate_limit_sync_seconds)
        app.state.stores, app.state.serving = app_stores, serving
        # Routers close over loaded models, so they are added here; removed again at shutdown.
        for model in loaded:
            app.include_router(make_model_router(model, serving, recorder, limiter))
        await _warm_up(app)
        logger.info("serving", extra={"versions": list(serving.models)})
        try:
            yield
        finally:
            app.router.routes[:] = routes_before
            limiter.close()
            writer.close()  # drains queued writes before the stores close
            if own_reader:
                reader.close()
            if own_stores:
                app_stores.close()

    app = create_service_app(SERVICE, settings, lifespan=lifespan, readiness=_readiness)
    app.add_exception_handler(StarletteHTTPException, _not_found_handler)
    return app


async def _not_found_handler(request: Request, exc: Exception) -> Response:
    """Routing 404s under /model/ say which versions exist instead of a bare "Not Found"."""
    assert isinstance(exc, StarletteHTTPException)
    parts = request.url.path.strip("/").split("/")
    if exc.status_code != 404 or exc.detail != "Not Found" or parts[0] != "model" or len(parts) < 2:
        return await http_exception_handler(request, exc)
    serving: Serving | None = getattr(request.app.state, "serving", None)
    served = list(serving.models) if serving else []
    version = parts[1]
    if version not in served:
        detail = f"unknown model version {version!r}; serving: {', '.join(served) or 'none'}"
    else:
        detail = f"model {version} has no endpoint {'/'.join(parts[2:])!r}"
    return JSONResponse(status_code=404, content={"detail": detail})


def _readiness_checks(app: FastAPI) -> dict[str, str]:
    checks: dict[str, str] = {}
    settings: ModelServingSettings = app.state.settings
    missing = [v for v in settings.spam_model_versions if v not in app.state.serving.models]
    checks["models"] = f"missing {', '.join(missing)}" if missing else "ok"
    for name, probe in (("stores", _ping_stores), ("feature_store", _ping_features)):
        try:
            probe(app)
            checks[name] = "ok"
        except Exception as exc:
            logger.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            checks[name] = f"failed: {type(exc).__name__}"
    return checks


def _ping_stores(app: FastAPI) -> None:
    app.state.stores.ping()


def _ping_features(app: FastAPI) -> None:
    serving: Serving = app.state.serving
    for model in serving.models.values():
        serving.reader.ping(model.feature_view, model.feature_names[0])


async def _readiness(app: FastAPI) -> dict[str, str] | None:
    if not hasattr(app.state, "serving"):
        return None
    return await run_in_threadpool(_readiness_checks, app)


async def _warm_up(app: FastAPI) -> None:
    """Pay now what a fresh worker's first requests would (api.common.serve listens only after this).

    Measured on a fresh worker under load, the first requests took 134-146 ms against a 7 ms median:
    FastAPI 0.165 builds an included router's routes on the first request routed through it (~90 ms),
    the first predict creates threadpoolctl's controller (~30 ms), and the first full collection after
    start-up walked the loaded models and Feast registry (a 340-370 ms pause about 0.5 s after listen).
    """
    await run_in_threadpool(_warm_models_and_stores, app)
    # A path no route matches visits every router. Sent to the router, not the app, so that no
    # middleware counts or logs it.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.router), base_url="http://warm-up") as client:
        await client.get("/__warm_up__")
    gc.collect()
    gc.freeze()  # start-up's objects live as long as the worker: later collections need not walk them


def _warm_models_and_stores(app: FastAPI) -> None:
    serving: Serving = app.state.serving
    for model in serving.models.values():
        model.features_to_predictions([model.text_to_features("warm up")])
    _readiness_checks(app)  # the first store and online-feature reads


app = create_app()
