"""A minimal keyed app for the proxy-header tests: answers with the caller's name, as `caller_of` sees it."""

from fastapi import FastAPI, Request

from api.common.auth import ApiKeySettings, caller_of

app = FastAPI()
app.state.settings = ApiKeySettings(spamops_api_keys="ops:ops-key:admin")


@app.get("/")
async def whoami(request: Request) -> dict[str, str]:
    return {"name": caller_of(request).name}
