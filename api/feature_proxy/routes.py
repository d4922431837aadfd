"""`POST /get-online-features`: Feast's route, narrowed to allow-listed, label-free feature services."""

from fastapi import APIRouter, Depends, Response

from api.common.auth import AUTH_RESPONSES, READ, require_scope
from api.feature_proxy.deps import FeatureServerDep, SettingsDep, refuse_raw_feature_lists
from api.feature_proxy.errors import FeatureServiceRefused
from api.feature_proxy.schemas import OnlineFeaturesRequest
from api.feature_proxy.upstream import ONLINE_FEATURES_PATH

router = APIRouter(tags=["features"])

ERROR_RESPONSES: dict[int | str, dict[str, str]] = {
    401: AUTH_RESPONSES[401],
    403: {"description": "the key lacks the read scope, the feature service is not allow-listed,"
                         " or raw features were named"},
    502: {"description": "the feature server is unreachable or failed"},
    504: {"description": "the feature server timed out"},
}


@router.post(
    ONLINE_FEATURES_PATH,
    # The key first: a caller without one learns nothing about the allow-list.
    dependencies=[Depends(require_scope(READ)), Depends(refuse_raw_feature_lists)],
    responses=ERROR_RESPONSES,
    response_class=Response,
)
async def get_online_features(
    payload: OnlineFeaturesRequest, settings: SettingsDep, feature_server: FeatureServerDep
) -> Response:
    """Forward to the feature server; its JSON answer (metadata, results) comes back byte for byte."""
    allowed = settings.proxy_allowed_feature_services
    if payload.feature_service not in allowed:
        raise FeatureServiceRefused(
            f"feature service {payload.feature_service!r} is not served; allowed: {', '.join(allowed)}"
        )
    # Forward the validated model, not the raw bytes: only the keys checked above ever reach Feast.
    content = await feature_server.online_features(payload.model_dump())
    return Response(content=content, media_type="application/json")
