"""The inbox page, its static assets, `/config.json`, and the page's backend under `/api` (same origin).

The browser calls only this server; it forwards to user-data, model serving and the feature proxy with
the `web` key, which stays here. The name the page asks for is a demo login: anyone who can reach this
server can read any inbox through it, as the `web` key's read scope allows.
"""

import re
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Path, Request, Response
from fastapi.responses import FileResponse

from api.common.http import HttpResponse
from api.common.ids import MAX_ID_LENGTH, USER_ID_PATTERN
from api.web.deps import BackendsDep, SettingsDep
from api.web.schemas import WebConfig

STATIC_DIR = FilePath(__file__).resolve().parent / "static"
# The page is tiny and changes with deployments; revalidating each load keeps it in step with config.json.
NO_CACHE = {"Cache-Control": "no-cache"}
PAGE_PARAMS = ("limit", "before")  # the only query parameters forwarded to user-data
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="next"')

router = APIRouter()
UserIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=USER_ID_PATTERN)]
VersionPath = Annotated[str, Path(pattern=r"^v[0-9]{1,3}$")]
Endpoint = Literal["text_to_prediction", "features_to_prediction"]
JsonBody = Annotated[dict[str, Any], Body()]
UPSTREAM: dict[int | str, dict[str, Any]] = {502: {"description": "the service behind failed"},
                                             503: {"description": "the service behind is down"}}
# The statuses model serving and the feature proxy answer with, relayed as they are (api/model_serving,
# api/feature_proxy document each); the page shows their `detail`.
RELAYED_PREDICTION: dict[int | str, dict[str, Any]] = {
    **UPSTREAM,
    404: {"description": "model serving has no such version"},
    409: {"description": "relayed from model serving: the online features are too old"},
    422: {"description": "relayed from model serving: the body is not valid for this version"},
    429: {"description": "relayed from model serving: the web backend is over its rate limit",
          "headers": {"Retry-After": {"description": "Seconds until a call is admitted again.",
                                      "schema": {"type": "string"}}}},
}
RELAYED_FEATURES: dict[int | str, dict[str, Any]] = {
    **UPSTREAM,
    403: {"description": "relayed from the feature proxy: the feature service is not allow-listed"},
    422: {"description": "relayed from the feature proxy: the body is not a valid request"},
    504: {"description": "relayed from the feature proxy: the feature server timed out"},
}
RELAYED_HEADERS = ("Retry-After",)


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)


@router.get("/config.json", tags=["web"])
async def config(settings: SettingsDep, response: Response) -> WebConfig:
    response.headers["Cache-Control"] = "no-store"
    return WebConfig.from_settings(settings)


@router.get("/api/sms/{user_id}", tags=["web"], responses=UPSTREAM)
async def list_sms(user_id: UserIdPath, request: Request, backends: BackendsDep) -> Response:
    """user-data's list, newest first; its `Link: rel="next"` points back here."""
    params = {name: value for name, value in request.query_params.items() if name in PAGE_PARAMS}
    upstream = await backends.list_sms(user_id, params)
    response = _relay(upstream)
    next_link = _NEXT_LINK.search(upstream.headers.get("Link", ""))
    if next_link:
        response.headers["Link"] = f'<{request.url.path}?{urlsplit(next_link.group(1)).query}>; rel="next"'
    return response


@router.post("/api/model/{version}/{endpoint}", tags=["web"], responses=RELAYED_PREDICTION)
async def predict(version: VersionPath, endpoint: Endpoint, body: JsonBody, backends: BackendsDep) -> Response:
    return _relay(await backends.predict(version, endpoint, body))


@router.post("/api/get-online-features", tags=["web"], responses=RELAYED_FEATURES)
async def online_features(body: JsonBody, backends: BackendsDep) -> Response:
    return _relay(await backends.online_features(body))


def _relay(upstream: HttpResponse) -> Response:
    """The upstream's status, JSON body and Retry-After, as they are (errors keep their `detail`)."""
    headers = {name: upstream.headers[name] for name in RELAYED_HEADERS if name in upstream.headers}
    return Response(content=upstream.content, status_code=upstream.status_code, headers=headers,
                    media_type="application/json")
