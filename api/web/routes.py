"""The inbox page, its static assets and `/config.json`."""

from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from api.web.deps import SettingsDep
from api.web.schemas import WebConfig

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The page is tiny and changes with deployments; revalidating each load keeps it in step with config.json.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=NO_CACHE)


@router.get("/config.json", tags=["web"])
async def config(settings: SettingsDep, response: Response) -> WebConfig:
    response.headers["Cache-Control"] = "no-store"
    return WebConfig.from_settings(settings)
