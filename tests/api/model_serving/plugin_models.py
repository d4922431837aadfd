"""Plugin model classes for tests/api/model_serving/test_plugins.py, loaded by their import path."""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from api.common.errors import InvalidFeatures
from contract.feature_store import FEATURES1
from training.artifacts import ModelArtifact
from training.features import v1_features


class WeightedFeatures:
    """A logistic score over the 9 v1 features; its artifact is a dict {"weights": [...], "bias": b}."""

    version = "kw1"
    artifact_dir = "keyword_plugin"
    feature_view = FEATURES1.view
    feature_names = FEATURES1.fields

    def __init__(self, params: dict[str, Any], artifact_sha256: str) -> None:
        self.weights = [float(w) for w in params["weights"]]
        self.bias = float(params["bias"])
        self.artifact_sha256 = artifact_sha256

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> "WeightedFeatures":
        return cls(artifact.estimator, artifact.sha256)

    def text_to_features(self, text: str) -> list[float]:  # preprocess
        return v1_features(text)

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:  # preprocess, many at once
        return np.array([v1_features(text) for text in texts], dtype=np.float64).reshape(len(texts), -1)

    def validate_features(self, features: Sequence[Any]) -> list[float]:
        if not isinstance(features, list) or len(features) != len(self.weights):
            raise InvalidFeatures(f"model kw1 expects {len(self.weights)} features")
        return [float(value) for value in features]

    def features_schema(self) -> dict[str, Any]:
        width = len(self.weights)
        return {"type": "array", "items": {"type": "number"}, "minItems": width, "maxItems": width}

    def features_from_online(self, values: dict[str, Any]) -> list[float]:
        return self.validate_features([values[name] for name in self.feature_names])

    def features_to_predictions(self, rows: Sequence[list[float]]) -> list[dict[str, float]]:
        scores = [self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True)) for row in rows]  # predict
        spam = [1.0 / (1.0 + math.exp(-score)) for score in scores]
        return [{"ham": 1.0 - p, "spam": p} for p in spam]  # postprocess into the prediction shape


class NoPredict(WeightedFeatures):
    """Fails the protocol: no features_to_predictions."""

    features_to_predictions = None  # type: ignore[assignment]


class ClashesWithV1(WeightedFeatures):
    version = "v1"
