"""Servable models: pure objects (no I/O after load) behind the `SpamModel` Protocol.

Built-in versions are all one class, `DeclaredModel`, built from a `training.versions.ModelVersion`;
plugins (registry.py) are any class that satisfies the Protocol.
"""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from api.common.errors import InvalidFeatures
from contract.feature_store import LABEL_LEGEND
from training.artifacts import ModelArtifact, load_artifact
from training.feature_sets import Encoder, InvalidFeatureVector, WrongLength
from training.versions import ModelVersion

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
    feature_view: str  # the view sms_to_prediction reads online
    feature_names: tuple[str, ...]  # fields of `feature_view`, in declared order
    artifact_sha256: str

    def text_to_features(self, text: str) -> Features: ...

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        """`text_to_features` of many texts in one call, as an (n, n_features) array (batch scoring)."""
        ...

    def validate_features(self, features: Sequence[Any]) -> Features:
        """Return the features normalised (floats or ints) or raise InvalidFeatures."""
        ...

    def features_schema(self) -> dict[str, Any]:
        """The JSON Schema of one vector `validate_features` accepts, for the version's OpenAPI."""
        ...

    def features_from_online(self, values: dict[str, Any]) -> Features:
        """Order a row read from `feature_view` (Feast's order is unstable) into a vector."""
        ...

    def features_to_predictions(self, rows: Sequence[Features]) -> list[Prediction]:
        """Many rows in one predict call, each as {"ham": p, "spam": p}."""
        ...


def load_checked_artifact(name: str, directory: Path) -> ModelArtifact:
    """The artifact in `directory` (hash-checked by load_artifact), refusing one trained as another version."""
    artifact = load_artifact(directory)
    recorded = artifact.metadata.get("version", name)
    if recorded != name:
        raise ValueError(f"{directory} holds model {recorded}, not {name}")
    return artifact


class DeclaredModel:
    """A declared version: its feature set's encoder, and predict_proba mapped to label names."""

    def __init__(self, declaration: ModelVersion, estimator: Any, encoder: Encoder, *, artifact_sha256: str) -> None:
        self.declaration = declaration
        self.version = declaration.name
        self.feature_view = declaration.feature_set.contract.view
        self.feature_names = declaration.feature_set.contract.fields
        self.artifact_sha256 = artifact_sha256
        self.estimator = estimator
        self.encoder = encoder
        width = declaration.feature_set.length
        n_in = getattr(estimator, "n_features_in_", width)
        if n_in != width:
            raise ValueError(f"model {self.version} expects {n_in} inputs, but serving sends {width}")
        # Column order of predict_proba follows classes_; map it once to label names.
        self._labels = [LABEL_LEGEND[int(c)] for c in estimator.classes_]

    @classmethod
    def load(cls, declaration: ModelVersion, models_dir: Path) -> "DeclaredModel":
        artifact = load_checked_artifact(declaration.name, declaration.model_dir(models_dir))
        encoder = declaration.feature_set.load(models_dir)
        return cls(declaration, artifact.estimator, encoder, artifact_sha256=artifact.sha256)

    def text_to_features(self, text: str) -> Features:
        return self.encoder.text_to_features(text)

    def texts_to_features(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.texts_to_matrix(texts)

    def validate_features(self, features: Sequence[Any]) -> Features:
        try:
            return self.encoder.validate(features)
        except WrongLength as exc:
            raise InvalidFeatures(f"model {self.version} expects {exc.expected} {exc.noun}, got {exc.got}") from None
        except InvalidFeatureVector as exc:
            raise InvalidFeatures(str(exc)) from None

    def features_schema(self) -> dict[str, Any]:
        length = self.declaration.feature_set.length
        n_ids = getattr(self.encoder, "n_ids", None)  # token ids lie in [0, n_ids); other vectors are numbers
        item = {"type": "number"} if n_ids is None else {"type": "integer", "minimum": 0, "maximum": n_ids - 1}
        return {"type": "array", "items": item, "minItems": length, "maxItems": length}

    def features_from_online(self, values: dict[str, Any]) -> Features:
        return self.validate_features(self.declaration.feature_set.online_vector(values))

    def features_to_predictions(self, rows: Sequence[Features]) -> list[Prediction]:
        _single_threaded_native_code()
        proba = self.estimator.predict_proba(self.declaration.feature_set.rows_to_matrix(rows))
        return [dict(zip(self._labels, map(float, row), strict=True)) for row in proba.tolist()]
