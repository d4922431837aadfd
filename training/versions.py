"""Model versions: each is one declaration (DESIGN §4).

A `ModelVersion` names its feature set (training.feature_sets), its estimator factory, its artifact
directory and its time freeze. Training, evaluation, cross-validation and serving derive everything
else from it, so a new version on existing features is one entry here and a notebook.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline, make_pipeline

from contract.paths import MODELS_DIR
from training.feature_sets import NAMED_FLOATS, TOKEN_IDS, E, FeatureSet, FloatEncoder, TokenEncoder
from training.models import (
    IdfWeighting,
    LeanLinearClassifier,
    MeanProbabilityClassifier,
    PackedGradientBoosting,
    TokenIdCounts,
    TokenIdNgrams,
)


@dataclass(frozen=True)
class ModelVersion(Generic[E]):
    """One model version; `make_estimator(encoder, random_state)` returns it unfitted."""

    name: str
    feature_set: FeatureSet[E]
    make_estimator: Callable[[E, int], BaseEstimator]
    description: str
    artifact_dir: str  # relative to the models directory
    time_freeze: datetime  # training reads the offline store as it was at this instant

    def model_dir(self, models_dir: Path = MODELS_DIR) -> Path:
        return models_dir / self.artifact_dir


def boosted_trees(features: FloatEncoder, random_state: int) -> PackedGradientBoosting:
    return PackedGradientBoosting(max_iter=100, learning_rate=0.1, max_leaf_nodes=15, random_state=random_state)


def tfidf_logistic(features: TokenEncoder, random_state: int) -> Pipeline:
    return make_pipeline(
        TokenIdCounts(n_ids=features.n_ids),
        IdfWeighting(),
        LeanLinearClassifier(loss="log", C=10.0, random_state=random_state),
    )


def tfidf_ngram_ensemble(features: TokenEncoder, random_state: int) -> Pipeline:
    return make_pipeline(
        TokenIdNgrams(n_ids=features.n_ids, min_df=2),
        IdfWeighting(),
        MeanProbabilityClassifier([
            LeanLinearClassifier(loss="hinge", C=1.0, random_state=random_state),
            LeanLinearClassifier(loss="log", C=10.0, random_state=random_state),
        ]),
    )  # fmt: skip


V1 = ModelVersion(
    name="v1",
    feature_set=NAMED_FLOATS,
    make_estimator=boosted_trees,
    description="Gradient boosting (100 trees of up to 15 leaves, grown best-first) over the 9 v1 text features.",
    artifact_dir="model1_2019",
    time_freeze=datetime(2019, 12, 31, tzinfo=UTC),
)
V2 = ModelVersion(
    name="v2",
    feature_set=TOKEN_IDS,
    make_estimator=tfidf_logistic,
    description="Logistic regression over sublinear tf-idf of the bag of token ids.",
    artifact_dir="model2_2020",
    time_freeze=datetime(2020, 12, 31, tzinfo=UTC),
)
V3 = ModelVersion(
    name="v3",
    feature_set=TOKEN_IDS,
    make_estimator=tfidf_ngram_ensemble,
    description="Mean of a Platt-calibrated linear SVM and a logistic regression over tf-idf of token-id "
    "unigrams, bigrams and position indicators.",
    artifact_dir="model3_2021",
    time_freeze=datetime(2021, 12, 31, tzinfo=UTC),
)
VERSIONS: dict[str, ModelVersion] = {version.name: version for version in (V1, V2, V3)}


def get_version(version: "str | ModelVersion") -> ModelVersion:
    """The declaration of `version` (a name or a declaration), or KeyError naming the known ones."""
    if isinstance(version, ModelVersion):
        return version
    try:
        return VERSIONS[version]
    except KeyError:
        raise KeyError(f"unknown model version {version!r}; known versions: {', '.join(VERSIONS)}") from None
