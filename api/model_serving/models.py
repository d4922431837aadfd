"""Servable models: pure objects (no I/O after load) behind the `SpamModel` Protocol.

Adding a version = one class here (or reuse one) + one line in `registry.MODEL_REGISTRY`.
"""

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from api.common.errors import InvalidFeatures
from training.artifacts import load_artifact
from training.versions import LABEL_LEGEND, V2_LENGTH, get_spec, tokenizer_dir

_native = threading.local()


def _single_threaded_native_code() -> None:
    """Once per thread: 1 OpenMP/BLAS thread. One-row predictions gain nothing from a team of threads,
    and on 2 cores the fork/join of an OpenMP team gave HistGradientBoosting a ~300 ms p99 (vs ~3 ms)."""
    if getattr(_native, "limited", False):
        return
    from threadpoolctl import ThreadpoolController

    controller = getattr(_single_threaded_native_code, "controller", None)
    if controller is None:
        controller = ThreadpoolController()
        _single_threaded_native_code.controller = controller  # type: ignore[attr-defined]
    controller.limit(limits=1)  # OpenMP's limit is per thread, hence once per pool thread
    _native.limited = True


Features = list[float] | list[int]
Prediction = dict[str, float]  # {"ham": p, "spam": p}


@runtime_checkable
class SpamModel(Protocol):
    version: str
    feature_service: str  # online feature service (e.g. sms_features_1)
    feature_view: str
    feature_names: tuple[str, ...]  # fields of `feature_view`, in declared order
    artifact_sha256: str

    def text_to_features(self, text: str) -> Features: ...

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        """`text_to_features` of many texts in one call, as an (n, n_features) array (batch scoring)."""
        ...

    def validate_features(self, features: Sequence[Any]) -> Features:
        """Return the features normalised (floats or ints) or raise InvalidFeatures."""
        ...

    def features_from_online(self, values: dict[str, Any]) -> Features:
        """Order a row read from `feature_view` (Feast's order is unstable) into a vector."""
        ...

    def features_to_prediction(self, features: Features) -> Prediction: ...

    def features_to_predictions(self, rows: Sequence[Features]) -> list[Prediction]:
        """Many rows in one predict_proba call."""
        ...


def _kind(value: Any) -> str:
    # JSON names for Python types, so messages read naturally to API clients.
    if value is None:
        return "null"
    return {bool: "boolean", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


class SklearnSpamModel:
    """Shared plumbing: artifact metadata, and predict_proba mapped to label names."""

    version: str
    n_features: ClassVar[int]
    dtype: ClassVar[type]

    def __init__(self, version: str, estimator: Any, *, artifact_sha256: str) -> None:
        spec = get_spec(version)
        self.version = version
        self.feature_service = spec.online_feature_service
        self.feature_view = spec.feature_view
        self.artifact_sha256 = artifact_sha256
        self.estimator = estimator
        n_in = getattr(estimator, "n_features_in_", self.n_features)
        if n_in != self.n_features:
            raise ValueError(f"model {version} expects {n_in} inputs, but serving sends {self.n_features}")
        classes = [int(c) for c in estimator.classes_]
        # Column order of predict_proba follows classes_; map it once to label names.
        self._labels = [LABEL_LEGEND[c] for c in classes]

    @classmethod
    def load_estimator(cls, version: str, models_dir: Path) -> tuple[Any, str]:
        artifact = load_artifact(get_spec(version).model_dir(models_dir))  # raises on a hash mismatch
        recorded = artifact.metadata.get("version", version)
        if recorded != version:
            raise ValueError(f"{get_spec(version).model_dir(models_dir)} holds model {recorded}, not {version}")
        return artifact.estimator, artifact.sha256

    def features_to_prediction(self, features: Features) -> Prediction:
        return self.features_to_predictions([features])[0]

    def features_to_predictions(self, rows: Sequence[Features]) -> list[Prediction]:
        _single_threaded_native_code()
        matrix = np.asarray(rows, dtype=self.dtype).reshape(len(rows), self.n_features)
        proba = self.estimator.predict_proba(matrix)
        return [dict(zip(self._labels, map(float, row), strict=True)) for row in proba.tolist()]

    def _check_length(self, features: Sequence[Any], noun: str) -> None:
        if not isinstance(features, list | tuple):
            raise InvalidFeatures(f"features must be an array, got {_kind(features)}")
        if len(features) != self.n_features:
            raise InvalidFeatures(f"model {self.version} expects {self.n_features} {noun}, got {len(features)}")


class V1Model(SklearnSpamModel):
    """9 named float features (training.features)."""

    n_features = 9
    dtype = np.float64

    def __init__(self, version: str, estimator: Any, *, artifact_sha256: str) -> None:
        from training.features import V1_FEATURE_NAMES, v1_feature_matrix, v1_features

        self.feature_names = tuple(V1_FEATURE_NAMES)
        self._v1_features = v1_features
        self._v1_feature_matrix = v1_feature_matrix
        super().__init__(version, estimator, artifact_sha256=artifact_sha256)

    @classmethod
    def load(cls, version: str, models_dir: Path) -> "V1Model":
        estimator, sha = cls.load_estimator(version, models_dir)
        return cls(version, estimator, artifact_sha256=sha)

    def text_to_features(self, text: str) -> list[float]:
        return self._v1_features(text)

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        return self._v1_feature_matrix(texts)

    def validate_features(self, features: Sequence[Any]) -> list[float]:
        self._check_length(features, "features")
        out: list[float] = []
        for i, value in enumerate(features):
            # bool is an int subclass: reject it explicitly rather than read True as 1.0.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidFeatures(f"features[{i}] must be a number, got {_kind(value)}")
            number = float(value)
            if not math.isfinite(number):
                raise InvalidFeatures(f"features[{i}] must be finite, got {number}")
            out.append(number)
        return out

    def features_from_online(self, values: dict[str, Any]) -> list[float]:
        return self.validate_features([values[name] for name in self.feature_names])


class TokenIdModel(SklearnSpamModel):
    """V2_LENGTH token ids from the shared v2 tokenizer; ids must lie in [0, n_ids)."""

    n_features = V2_LENGTH
    dtype = np.int64
    feature_names: tuple[str, ...] = ("features",)

    def __init__(self, version: str, estimator: Any, *, artifact_sha256: str, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.n_ids = int(tokenizer.n_ids_)
        super().__init__(version, estimator, artifact_sha256=artifact_sha256)

    @classmethod
    def load(cls, version: str, models_dir: Path) -> "TokenIdModel":
        from training.tokenizer import SmsTokenizer

        estimator, sha = cls.load_estimator(version, models_dir)
        return cls(version, estimator, artifact_sha256=sha, tokenizer=SmsTokenizer.load(tokenizer_dir(models_dir)))

    def text_to_features(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        return self.tokenizer.transform(texts)

    def validate_features(self, features: Sequence[Any]) -> list[int]:
        self._check_length(features, "token ids")
        out: list[int] = []
        for i, value in enumerate(features):
            out.append(self._token_id(i, value))
        return out

    def _token_id(self, i: int, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFeatures(f"features[{i}] must be an integer token id, got {_kind(value)}")
        # 20.0 is accepted (JSON clients often send floats); 20.5, NaN and inf are not ids.
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise InvalidFeatures(f"features[{i}] must be an integer token id, got {value}")
        token = int(value)
        if not 0 <= token < self.n_ids:
            raise InvalidFeatures(f"features[{i}] must be a token id in [0, {self.n_ids}), got {token}")
        return token

    def features_from_online(self, values: dict[str, Any]) -> list[int]:
        return self.validate_features(list(values["features"]))


class V2Model(TokenIdModel):
    """2020: a scikit-learn model over the token ids."""


class V3Model(TokenIdModel):
    """2021: a stronger scikit-learn model on the same token ids."""
