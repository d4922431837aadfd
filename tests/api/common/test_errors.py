"""Domain errors map once to FastAPI's {"detail": ...} shape and the right status."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.common.errors import (
    DomainError,
    InvalidFeatures,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UpstreamError,
    UpstreamUnavailable,
    register_error_handlers,
)


class Body(BaseModel):
    values: list[int]


def _app(error: DomainError) -> FastAPI:
    app = FastAPI()
    register_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    @app.post("/body")
    async def body(payload: Body) -> dict:
        return {"n": len(payload.values)}

    return app


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("no such sms"), 404),
        (PayloadTooLarge("too many"), 413),
        (UpstreamError("feature server answered 500"), 502),
        (UpstreamUnavailable("feature server timed out"), 503),
    ],
)
def test_domain_errors_map_to_status_and_detail(error: DomainError, status: int) -> None:
    response = TestClient(_app(error)).get("/boom")
    assert response.status_code == status
    assert response.json() == {"detail": error.detail}


@pytest.mark.parametrize("error", [InvalidInput("bad text", loc=("body", "text")), InvalidFeatures("bad features")])
def test_invalid_input_is_a_422_in_the_validation_error_shape(error: InvalidInput) -> None:
    # The shape every route's OpenAPI promises for 422 (HTTPValidationError), not a bare string.
    response = TestClient(_app(error)).get("/boom")
    assert response.status_code == 422
    assert response.json() == {"detail": [{"type": "value_error", "loc": list(error.loc), "msg": error.detail,
                                           "input": None}]}


def test_405_allow_lists_the_methods_of_every_route_on_the_path() -> None:
    app = _app(NotFound("x"))
    app.add_api_route("/boom", lambda: None, methods=["DELETE"])
    response = TestClient(app).put("/boom")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"DELETE", "GET"}
    assert response.json() == {"detail": "Method Not Allowed"}


def test_validation_error_with_nan_input_renders_as_422() -> None:
    client = TestClient(_app(NotFound("x")))
    response = client.post(
        "/body", content=b'{"values": [NaN, Infinity]}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert [e["input"] for e in response.json()["detail"]] == ["nan", "inf"]
