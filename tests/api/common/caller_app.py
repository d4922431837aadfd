"""A minimal keyed app for the proxy-header tests: answers with the caller's name, as `optional_caller` sees it."""

from fastapi import FastAPI

from api.common.auth import ApiKeySettings, OptionalCaller

app = FastAPI()
app.state.settings = ApiKeySettings(spamops_api_keys="ops:ops-key:admin")


@app.get("/")
async def whoami(caller: OptionalCaller) -> dict[str, str]:
    return {"name": caller.name}
