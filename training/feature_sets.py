"""Feature sets: the code behind each feature-store contract (contract.feature_store).

A feature set owns its feature names (its contract), text → features, the training frame → matrix
step, the rows → matrix step of prediction, and the validation of a vector a client sends. Fitting
or loading one gives an *encoder*: `NAMED_FLOATS` (features1) is stateless, `TOKEN_IDS` (features2)
holds the tokenizer fitted on the training split, saved beside model v2 and shared by every version
on these features. Cross-validation calls `fit` per fold; training, evaluation and serving `load`.
"""

import hashlib
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd

from contract.feature_store import FEATURES1, FEATURES2, V2_FIELD, V2_LENGTH, FeatureSetContract
from contract.paths import MODELS_DIR
from training.features import v1_feature_matrix, v1_features
from training.tokenizer import SmsTokenizer

Features = list[float] | list[int]
TOKENIZER_DIR = Path("model2_2020") / "tokenizer"  # relative to the models directory
SPLIT_FILE = "split.json"


class InvalidFeatureVector(ValueError):
    """A vector with the wrong type or range for its feature set; the message names the entry."""


class WrongLength(InvalidFeatureVector):
    """A vector of the wrong length; kept apart so that serving can say which model expects what."""

    def __init__(self, expected: int, noun: str, got: int) -> None:
        super().__init__(f"expects {expected} {noun}, got {got}")
        self.expected, self.noun, self.got = expected, noun, got


def _kind(value: Any) -> str:
    # JSON names for Python types, so messages read naturally to API clients.
    if value is None:
        return "null"
    return {bool: "boolean", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _check_length(features: Sequence[Any], length: int, noun: str) -> None:
    if not isinstance(features, list | tuple):
        raise InvalidFeatureVector(f"features must be an array, got {_kind(features)}")
    if len(features) != length:
        raise WrongLength(length, noun, len(features))


def ids_hash(sms_ids: pd.Series) -> str:
    """sha256 of a set of ids, order-free: records which split a tokenizer was fitted on."""
    return hashlib.sha256("\n".join(sorted(sms_ids)).encode()).hexdigest()


class Encoder(Protocol):
    """A fitted feature set: what evaluation and serving need to turn texts into model input."""

    def text_to_features(self, text: str) -> Features: ...

    def texts_to_matrix(self, texts: Sequence[str]) -> np.ndarray: ...

    def validate(self, features: Sequence[Any]) -> Features:
        """The vector normalised (floats or ints), or InvalidFeatureVector."""
        ...


class FloatEncoder:
    """features1: the 9 named v1 floats of `training.features`; stateless."""

    def text_to_features(self, text: str) -> list[float]:
        return v1_features(text)

    def texts_to_matrix(self, texts: Sequence[str]) -> np.ndarray:
        return v1_feature_matrix(texts)

    def validate(self, features: Sequence[Any]) -> list[float]:
        _check_length(features, len(FEATURES1.fields), "features")
        out: list[float] = []
        for i, value in enumerate(features):
            # bool is an int subclass: reject it explicitly rather than read True as 1.0.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidFeatureVector(f"features[{i}] must be a number, got {_kind(value)}")
            number = float(value)
            if not math.isfinite(number):
                raise InvalidFeatureVector(f"features[{i}] must be finite, got {number}")
            out.append(number)
        return out


class TokenEncoder:
    """features2: V2_LENGTH token ids from a fitted tokenizer; valid ids lie in [0, n_ids)."""

    def __init__(self, tokenizer: SmsTokenizer) -> None:
        self.tokenizer = tokenizer
        self.n_ids = int(tokenizer.n_ids_)

    def text_to_features(self, text: str) -> list[int]:
        return [int(i) for i in self.tokenizer.encode(text)]

    def texts_to_matrix(self, texts: Sequence[str]) -> np.ndarray:
        return self.tokenizer.transform(texts)

    def validate(self, features: Sequence[Any]) -> list[int]:
        _check_length(features, V2_LENGTH, "token ids")
        return [self._token_id(i, value) for i, value in enumerate(features)]

    def _token_id(self, i: int, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFeatureVector(f"features[{i}] must be an integer token id, got {_kind(value)}")
        # 20.0 is accepted (JSON clients often send floats); 20.5, NaN and inf are not ids.
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise InvalidFeatureVector(f"features[{i}] must be an integer token id, got {value}")
        token = int(value)
        if not 0 <= token < self.n_ids:
            raise InvalidFeatureVector(f"features[{i}] must be a token id in [0, {self.n_ids}), got {token}")
        return token


E = TypeVar("E", bound=Encoder, covariant=True)


class FeatureSet(ABC, Generic[E]):
    """Shared by both sets: the contract, and the rows → matrix step prediction takes."""

    contract: FeatureSetContract
    length: int
    dtype: type

    def rows_to_matrix(self, rows: Sequence[Features]) -> np.ndarray:
        return np.asarray(rows, dtype=self.dtype).reshape(len(rows), self.length)

    @abstractmethod
    def fit(self, texts: Sequence[str], params: Mapping[str, Any] | None = None) -> E:
        """A fresh encoder fitted on `texts` (a training split); `params` tune its state, if it has one."""
        ...

    @abstractmethod
    def load(self, models_dir: Path = MODELS_DIR, *, train_ids: pd.Series | None = None) -> E:
        """The saved encoder; with `train_ids`, refuse one fitted on another split."""
        ...

    @abstractmethod
    def frame_to_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Model input from a training frame's feature columns, in declared order."""
        ...

    @abstractmethod
    def online_vector(self, row: Mapping[str, Any]) -> list[Any]:
        """A row read from the view (Feast's field order is unstable) as one vector, not yet validated."""
        ...


class NamedFloats(FeatureSet[FloatEncoder]):
    contract = FEATURES1
    length = len(FEATURES1.fields)
    dtype = np.float64

    def fit(self, texts: Sequence[str], params: Mapping[str, Any] | None = None) -> FloatEncoder:
        return FloatEncoder()

    def load(self, models_dir: Path = MODELS_DIR, *, train_ids: pd.Series | None = None) -> FloatEncoder:
        return FloatEncoder()

    def frame_to_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[list(self.contract.fields)].to_numpy(dtype=np.float64)

    def online_vector(self, row: Mapping[str, Any]) -> list[Any]:
        return [row[name] for name in self.contract.fields]


class TokenIds(FeatureSet[TokenEncoder]):
    contract = FEATURES2
    length = V2_LENGTH
    dtype = np.int64

    def state_dir(self, models_dir: Path = MODELS_DIR) -> Path:
        return models_dir / TOKENIZER_DIR

    def fit(self, texts: Sequence[str], params: Mapping[str, Any] | None = None) -> TokenEncoder:
        """`params` are SmsTokenizer's; without them, the chosen defaults."""
        return TokenEncoder(SmsTokenizer(**(params or {})).fit(list(texts)))

    def save(self, encoder: TokenEncoder, models_dir: Path, train_ids: pd.Series) -> None:
        """Write the tokenizer and which ids its training split held."""
        directory = self.state_dir(models_dir)
        encoder.tokenizer.save(directory)
        split = {"train_ids_sha256": ids_hash(train_ids), "n_train": len(train_ids)}
        (directory / SPLIT_FILE).write_text(json.dumps(split, indent=2) + "\n")

    def load(self, models_dir: Path = MODELS_DIR, *, train_ids: pd.Series | None = None) -> TokenEncoder:
        directory = self.state_dir(models_dir)
        if train_ids is not None:
            recorded = json.loads((directory / SPLIT_FILE).read_text())["train_ids_sha256"]
            if recorded != ids_hash(train_ids):
                raise RuntimeError(f"the tokenizer in {directory} was fitted on another split; refit it first")
        return TokenEncoder(SmsTokenizer.load(directory))

    def frame_to_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return np.stack([np.asarray(row, dtype=np.int64) for row in frame[V2_FIELD]])

    def online_vector(self, row: Mapping[str, Any]) -> list[Any]:
        return list(row[V2_FIELD])


NAMED_FLOATS = NamedFloats()
TOKEN_IDS = TokenIds()
