"""Router-level fixtures: a fake model implementing SpamModel, a fake online store, SQLite app stores."""

import math
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

os.environ.setdefault("SPAMOPS_API_KEY", "test-api-key")  # main.py builds its module-level app on import

from api.common.errors import InvalidFeatures
from api.common.settings import BaseServiceSettings
from api.common.storage import Stores, make_stores
from api.model_serving.feature_reader import OnlineRow
from api.model_serving.main import create_app
from api.model_serving.settings import ModelServingSettings


class FakeModel:
    """3 finite floats; spam probability grows with '!' count. Counts predict calls and rows."""

    version = "v1"
    feature_view = "sms_features1"
    feature_names = ("a", "b", "c")
    artifact_sha256 = "f" * 64

    def __init__(self) -> None:
        self.predict_calls: list[int] = []

    def text_to_features(self, text: str) -> list[float]:
        return [float(len(text)), float(text.count("!")), float(sum(c.isupper() for c in text))]

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([self.text_to_features(text) for text in texts], dtype=np.float64).reshape(len(texts), 3)

    def validate_features(self, features: Sequence[Any]) -> list[float]:
        if len(features) != 3:
            raise InvalidFeatures(f"model v1 expects 3 features, got {len(features)}")
        for i, value in enumerate(features):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidFeatures(f"features[{i}] must be a number")
            if not math.isfinite(value):
                raise InvalidFeatures(f"features[{i}] must be finite, got {value}")
        return [float(v) for v in features]

    def features_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3}

    def features_from_online(self, values: dict[str, Any]) -> list[float]:
        return self.validate_features([values[name] for name in self.feature_names])

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        self.predict_calls.append(len(rows))
        out = []
        for row in rows:
            spam = 1.0 / (1.0 + math.exp(-(row[1] - 1.0)))
            out.append({"ham": 1.0 - spam, "spam": spam})
        return out


class FakeReader:
    """Online rows by sms_id, all written `age` ago; ids not in `rows` have no features."""

    def __init__(self, rows: dict[str, dict[str, Any]], *, age: timedelta = timedelta(seconds=3)) -> None:
        self.rows = rows
        self.event_time = datetime.now(UTC).replace(microsecond=0) - age
        self.reads: list[list[str]] = []
        self.healthy = True

    def read(self, view: str, fields: Sequence[str], sms_ids: Sequence[str]) -> list[OnlineRow | None]:
        self.reads.append(list(sms_ids))
        return [None if i not in self.rows else OnlineRow({f: self.rows[i][f] for f in fields}, self.event_time)
                for i in sms_ids]

    def ping(self, view: str, field: str) -> None:
        if not self.healthy:
            raise ConnectionError("online store down")

    def close(self) -> None:
        pass


ALICE_KEY, BOB_KEY = "alice-key-1", "bob-key-2"
ALICE, BOB = {"X-API-Key": ALICE_KEY}, {"X-API-Key": BOB_KEY}
ONLINE_ROWS = {"sms1": {"a": 10.0, "b": 3.0, "c": 1.0}, "sms2": {"a": 5.0, "b": 0.0, "c": 0.0}}


@pytest.fixture
def serving_settings(tmp_path: Path) -> ModelServingSettings:
    return ModelServingSettings(
        spam_model_versions="v1",
        spamops_api_keys=f"alice:{ALICE_KEY}:read,bob:{BOB_KEY}:read",
        sqlite_path=tmp_path / "app.db",
        max_batch_size=8,
        max_text_length=100,
        call_log_max_limit=5,
        logs_fraction=1.0,
        feature_cache_ttl_seconds=0,  # every sms_to_prediction reads the fake online store (see test_serving)
    )


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def fake_reader() -> FakeReader:
    return FakeReader(dict(ONLINE_ROWS))


@pytest.fixture
def app_stores(tmp_path: Path) -> Iterator[Stores]:
    stores = make_stores(BaseServiceSettings(sqlite_path=tmp_path / "app.db"))
    yield stores
    stores.close()


@pytest.fixture
def client(
    serving_settings: ModelServingSettings, fake_model: FakeModel, fake_reader: FakeReader, app_stores: Stores
) -> Iterator[TestClient]:
    app = create_app(serving_settings, models=[fake_model], stores=app_stores, feature_reader=fake_reader)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        fake_model.predict_calls.clear()  # the lifespan's warm-up predicted once; the tests count their own
        yield test_client
