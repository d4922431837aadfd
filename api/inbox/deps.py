"""Dependency providers and their `Annotated` aliases (objects live on `app.state`, made in the lifespan)."""

from typing import Annotated

from fastapi import Depends, Request

from api.inbox.pipeline import InboxPipeline


async def get_pipeline(request: Request) -> InboxPipeline:
    return request.app.state.pipeline


PipelineDep = Annotated[InboxPipeline, Depends(get_pipeline)]
