"""The page's backend: user-data, model serving and the feature proxy, called under the `web` key."""

from collections.abc import Mapping
from typing import Any

import aiohttp

from api.common.auth import API_KEY_HEADER, outbound_api_key
from api.common.http import HttpResponse, make_http_client, send, send_with_retries
from api.web.settings import WebSettings


class Backends:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.client: aiohttp.ClientSession = make_http_client(
            timeout_seconds=settings.upstream_timeout_seconds,
            connect_timeout_seconds=settings.upstream_connect_timeout_seconds,
        )
        self._auth = {API_KEY_HEADER: outbound_api_key(settings, settings.web_caller_name)}

    async def list_sms(self, user_id: str, params: Mapping[str, str]) -> HttpResponse:
        # A read is safe to repeat.
        return await send_with_retries(self.client, "GET", f"{self.settings.user_data_url}/sms/{user_id}",
                                       params=dict(params), headers=self._auth, attempts=2,
                                       max_seconds=self.settings.upstream_timeout_seconds)

    async def predict(self, version: str, endpoint: str, body: Any) -> HttpResponse:
        url = f"{self.settings.model_serving_url}/model/{version}/{endpoint}"
        return await send(self.client, "POST", url, json=body, headers=self._auth)

    async def online_features(self, body: Any) -> HttpResponse:
        url = f"{self.settings.feature_proxy_url}/get-online-features"
        return await send(self.client, "POST", url, json=body, headers=self._auth)

    async def close(self) -> None:
        await self.client.close()
