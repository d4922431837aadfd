"""Validation rules and predictions of the declared model class, with tiny in-test estimators."""

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from api.common.errors import InvalidFeatures
from api.model_serving.models import DeclaredModel, SpamModel
from api.model_serving.registry import load_models
from training.artifacts import save_artifact
from training.feature_sets import FloatEncoder, TokenEncoder
from training.versions import V1, V2, V3

N_IDS = 50


class StubTokenizer:
    n_ids_ = N_IDS

    def encode(self, text: str) -> list[int]:
        ids = [min(len(word), N_IDS - 1) for word in text.split()][:30]
        return ids + [0] * (30 - len(ids))


def _fit(n_features: int, high: int) -> LogisticRegression:
    rng = np.random.default_rng(0)
    X = rng.integers(0, high, size=(60, n_features)).astype(np.float64)
    y = (X[:, 0] > high / 2).astype(np.int64)
    return LogisticRegression(max_iter=2000).fit(X, y)


@pytest.fixture(scope="module")
def v1() -> DeclaredModel:
    return DeclaredModel(V1, _fit(9, 10), FloatEncoder(), artifact_sha256="a" * 64)


@pytest.fixture(scope="module", params=[V2, V3], ids=["v2", "v3"])
def token_model(request: pytest.FixtureRequest) -> DeclaredModel:
    encoder = TokenEncoder(StubTokenizer())  # type: ignore[arg-type]
    return DeclaredModel(request.param, _fit(30, N_IDS), encoder, artifact_sha256="b" * 64)


def test_models_implement_protocol(v1: DeclaredModel, token_model: DeclaredModel) -> None:
    assert isinstance(v1, SpamModel)
    assert isinstance(token_model, SpamModel)
    assert v1.feature_view == "sms_features1" and len(v1.feature_names) == 9
    assert token_model.feature_view == "sms_features2" and token_model.feature_names == ("features",)


def test_v1_text_to_features_gives_nine_floats(v1: DeclaredModel) -> None:
    features = v1.text_to_features("WIN a FREE prize now!!! call 08001234567")
    assert len(features) == 9 and all(isinstance(x, float) for x in features)


def test_v1_prediction_is_predict_proba(v1: DeclaredModel) -> None:
    row = [1.0] * 9
    [prediction] = v1.features_to_predictions([row])
    expected = v1.estimator.predict_proba(np.asarray([row]))[0]
    assert prediction == pytest.approx({"ham": expected[0], "spam": expected[1]})
    assert math.isclose(prediction["ham"] + prediction["spam"], 1.0)


def test_batch_predicts_all_rows_in_one_call(v1: DeclaredModel, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = v1.estimator.predict_proba
    monkeypatch.setattr(v1.estimator, "predict_proba", lambda X: calls.append(len(X)) or original(X))
    predictions = v1.features_to_predictions([[0.0] * 9, [9.0] * 9, [5.0] * 9])
    assert calls == [3] and len(predictions) == 3


@pytest.mark.parametrize("features", [[1, 2.5, 0, 0, 0, 0, 0, 0, 0], [0.0] * 9, [10**6] * 9])
def test_v1_validate_features_accepts_finite_numbers(v1: DeclaredModel, features: list) -> None:
    assert v1.validate_features(features) == [float(x) for x in features]


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([0.0] * 8, "expects 9 features, got 8"),
        ([0.0] * 10, "expects 9 features, got 10"),
        ([], "expects 9 features, got 0"),
        ([math.nan] + [0.0] * 8, "features[0] must be finite"),
        ([0.0] * 8 + [math.inf], "features[8] must be finite"),
        ([0.0, -math.inf] + [0.0] * 7, "features[1] must be finite"),
        (["1.0"] + [0.0] * 8, "features[0] must be a number, got string"),
        ([0.0, True] + [0.0] * 7, "features[1] must be a number, got boolean"),
        ([0.0, 0.0, None] + [0.0] * 6, "features[2] must be a number, got null"),
        ([[1.0]] + [0.0] * 8, "features[0] must be a number, got array"),
        ({"a": 1}, "features must be an array, got object"),
    ],
)
def test_v1_validate_features_rejects(v1: DeclaredModel, features: object, message: str) -> None:
    with pytest.raises(InvalidFeatures, match=message.replace("[", r"\[").replace("]", r"\]")):
        v1.validate_features(features)  # type: ignore[arg-type]


def test_token_model_text_to_features_gives_thirty_ints(token_model: DeclaredModel) -> None:
    features = token_model.text_to_features("free entry now")
    assert len(features) == 30 and all(type(x) is int for x in features)


def test_token_model_accepts_integral_floats(token_model: DeclaredModel) -> None:
    assert token_model.validate_features([20.0] + [1] * 29) == [20] + [1] * 29


def test_token_model_prediction_sums_to_one(token_model: DeclaredModel) -> None:
    [prediction] = token_model.features_to_predictions([[3] * 30])
    assert set(prediction) == {"ham", "spam"} and math.isclose(sum(prediction.values()), 1.0)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([1] * 29, "expects 30 token ids, got 29"),
        ([1] * 31, "expects 30 token ids, got 31"),
        ([20.5] + [1] * 29, r"features\[0\] must be an integer token id, got 20.5"),
        ([1, math.nan] + [1] * 28, r"features\[1\] must be an integer token id, got nan"),
        ([1, math.inf] + [1] * 28, r"features\[1\] must be an integer token id, got inf"),
        ([-1] + [1] * 29, r"features\[0\] must be a token id in \[0, 50\), got -1"),
        ([N_IDS] + [1] * 29, r"features\[0\] must be a token id in \[0, 50\), got 50"),
        (["3"] + [1] * 29, r"features\[0\] must be an integer token id, got string"),
        ([False] + [1] * 29, r"features\[0\] must be an integer token id, got boolean"),
        ([None] + [1] * 29, r"features\[0\] must be an integer token id, got null"),
    ],
)
def test_token_model_validate_features_rejects(token_model: DeclaredModel, features: list, message: str) -> None:
    with pytest.raises(InvalidFeatures, match=message):
        token_model.validate_features(features)


def test_features_from_online_reorders_by_declared_names(v1: DeclaredModel) -> None:
    row = {name: float(i) for i, name in enumerate(v1.feature_names)}
    shuffled = dict(reversed(list(row.items())))
    assert v1.features_from_online(shuffled) == [float(i) for i in range(9)]


def test_load_models_refuses_tampered_artifact(tmp_path: Path) -> None:
    directory = tmp_path / "model1_2019"
    save_artifact(_fit(9, 10), {"version": "v1"}, directory)
    (directory / "model.joblib").write_bytes((directory / "model.joblib").read_bytes() + b"tampered")
    with pytest.raises(RuntimeError, match=r"cannot load model v1.*sha256"):
        load_models(["v1"], tmp_path)


def test_load_models_loads_intact_artifact(tmp_path: Path) -> None:
    written = save_artifact(_fit(9, 10), {"version": "v1"}, tmp_path / "model1_2019")
    [model] = load_models(["v1"], tmp_path)
    assert model.version == "v1" and model.artifact_sha256 == written["artifact_sha256"]


def test_load_models_missing_artifact_names_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"cannot load model v2 .*model2_2020"):
        load_models(["v2"], tmp_path)


def test_load_models_unknown_version_lists_known() -> None:
    with pytest.raises(ValueError, match="unknown model version 'v9'; known versions: v1, v2, v3"):
        load_models(["v9"], Path("."))


def test_model_with_wrong_input_width_is_refused() -> None:
    with pytest.raises(ValueError, match="expects 5 inputs"):
        DeclaredModel(V1, _fit(5, 10), FloatEncoder(), artifact_sha256="c" * 64)
