"""Estimators per declared version: unfitted on creation, valid probabilities after fit, fast single rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from training.feature_sets import Encoder
from training.models import (
    SMALL_BATCH,
    IdfWeighting,
    LeanLinearClassifier,
    MeanProbabilityClassifier,
    PackedGradientBoosting,
    TokenIdCounts,
    TokenIdNgrams,
)
from training.versions import VERSIONS

SPAM = ["WIN a FREE prize call 0906170{} now", "check out my channel and subscribe {}", "URGENT £{} txt"]
HAM = ["see you at {} tonight", "ok lar i am home by {}", "love this song so much {}"]


def _texts_and_labels(n_per_template: int = 30) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for templates, label in ((SPAM, 1), (HAM, 0)):
        for template in templates:
            for _ in range(n_per_template):
                texts.append(template.format(int(rng.integers(1000, 9999))))
                labels.append(label)
    return texts, np.asarray(labels)


def _inputs(version: str) -> tuple[np.ndarray, np.ndarray, Encoder]:
    texts, labels = _texts_and_labels()
    encoder = VERSIONS[version].feature_set.fit(texts, {"min_count": 1})
    return encoder.texts_to_matrix(texts), labels, encoder


def _estimator(version: str, encoder: Encoder) -> BaseEstimator:
    return VERSIONS[version].make_estimator(encoder, 42)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_make_estimator_returns_unfitted_estimator(version: str) -> None:
    _, _, encoder = _inputs(version)
    estimator = _estimator(version, encoder)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
    assert clone(estimator).get_params().keys() == estimator.get_params().keys()
    assert VERSIONS[version].description


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_predict_proba_after_fit_returns_probabilities_for_classes_0_1(version: str) -> None:
    X, y, encoder = _inputs(version)
    model = _estimator(version, encoder).fit(X, y)
    proba = model.predict_proba(X)
    assert model.classes_.tolist() == [0, 1]
    assert proba.shape == (len(X), 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(X) == y).mean() > 0.9


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_a_row_gets_the_same_answer_alone_or_in_any_batch(version: str) -> None:
    # Serving batches concurrent requests together (api/model_serving/serving.py).
    X, y, encoder = _inputs(version)
    model = _estimator(version, encoder).fit(X, y)
    rows = X[:70]
    alone = np.vstack([model.predict_proba(rows[i : i + 1]) for i in range(len(rows))])
    for size in (2, 5, 32, 70):
        batched = np.vstack([model.predict_proba(rows[i : i + size]) for i in range(0, len(rows), size)])
        assert np.allclose(batched, alone, atol=1e-12), size


def test_packed_gradient_boosting_matches_gradientboostingclassifier() -> None:
    X, y, _ = _inputs("v1")
    X = X + np.random.default_rng(1).normal(scale=0.1, size=X.shape)  # ties would hide threshold bugs
    packed = PackedGradientBoosting(max_iter=20, random_state=3).fit(X, y)
    booster = GradientBoostingClassifier(
        n_estimators=20, max_leaf_nodes=15, max_depth=None, random_state=3
    ).fit(X, y)
    unseen = X + np.random.default_rng(2).normal(scale=0.3, size=X.shape)
    assert np.allclose(packed.predict_proba(unseen), booster.predict_proba(unseen), atol=1e-9)


def test_packed_gradient_boosting_from_histogram_trees_is_refused() -> None:
    # An artifact packed by the build before (from HistGradientBoosting's private trees) carries this field.
    X, y, _ = _inputs("v1")
    packed = PackedGradientBoosting(max_iter=5).fit(X, y)
    packed.split_missing_left_ = np.zeros(len(packed.split_feature_), dtype=bool)
    with pytest.raises(RuntimeError, match="retrain it"):
        packed.predict_proba(X[:1])


@pytest.mark.parametrize("transformer", [TokenIdCounts(n_ids=9), TokenIdNgrams(n_ids=9, min_df=1)])
def test_token_id_transformers_give_the_same_matrix_to_small_and_large_batches(
    transformer: TokenIdCounts | TokenIdNgrams,
) -> None:
    # Up to SMALL_BATCH rows take the plain-Python path, more the vectorised one: every array must agree.
    ids = np.random.default_rng(4).integers(0, 9, size=(40, 6))
    ids[::3, 3:] = 0  # PAD at the end, and (rows 1, 4, ...) PAD in the middle
    ids[1::3, 2] = 0
    ids[5] = 0
    transformer.fit(ids)
    together = transformer.transform(ids)
    for size in range(1, SMALL_BATCH + 1):
        parts = [transformer.transform(ids[i : i + size]) for i in range(0, len(ids), size)]
        stacked = sp.vstack(parts, format="csr")  # concatenates the parts' arrays as they are
        for name in ("indices", "indptr", "data"):
            assert np.array_equal(getattr(stacked, name), getattr(together, name)), (size, name)
        assert {(part.indices.dtype, part.indptr.dtype, part.data.dtype) for part in parts} == {
            (together.indices.dtype, together.indptr.dtype, together.data.dtype)
        }


def test_token_id_counts_ignores_pad_and_counts_repeats() -> None:
    counts = TokenIdCounts(n_ids=5).fit_transform(np.array([[2, 2, 4, 0, 0], [0, 0, 0, 0, 0]]))
    assert counts.toarray().tolist() == [[0, 0, 2, 0, 1], [0, 0, 0, 0, 0]]


def test_token_id_counts_id_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="token ids must lie"):
        TokenIdCounts(n_ids=3).transform(np.array([[1, 3]]))


def test_token_id_ngrams_unseen_bigram_ignored_and_positions_marked() -> None:
    ngrams = TokenIdNgrams(n_ids=6, min_df=1).fit(np.array([[2, 3, 0, 0]]))
    row = ngrams.transform(np.array([[3, 2, 0, 0]])).toarray()[0]
    assert row.shape == (ngrams.n_features_out_,)
    assert row[:6].tolist() == [0, 0, 1, 1, 0, 0]  # unigrams
    assert row[6] == 0  # the one learned bigram (2, 3) is absent; (3, 2) was never seen
    first_at = 6 + 1
    assert row[first_at + 3] == 1  # first real id is 3
    assert row[first_at + 6 + 2] == 1  # last real id is 2


def test_token_id_ngrams_pad_inside_a_row_joins_its_neighbours_into_a_bigram() -> None:
    # Clients may send any ids; PAD counts nowhere, so (2, 3) is the pair on both sides of it.
    ngrams = TokenIdNgrams(n_ids=6, min_df=1).fit(np.array([[2, 3, 0, 0]]))
    row = ngrams.transform(np.array([[2, 0, 3, 3]])).toarray()[0]
    assert row[:6].tolist() == [0, 0, 1, 2, 0, 0]
    assert row[6] == 1  # the learned bigram (2, 3)
    assert row[7 + 2] == 1 and row[7 + 6 + 3] == 1  # first 2, last 3


def test_token_id_ngrams_learns_bigrams_by_document_frequency() -> None:
    ids = np.array([[2, 3, 2, 3], [2, 3, 0, 0], [4, 5, 0, 0]])
    assert TokenIdNgrams(n_ids=6, min_df=2).fit(ids).bigram_index_ == {(2, 3): 0}  # twice in row 0 counts once
    assert TokenIdNgrams(n_ids=6, min_df=1).fit(ids).bigram_index_ == {(2, 3): 0, (3, 2): 1, (4, 5): 2}


@pytest.mark.parametrize("transformer", [TokenIdCounts(n_ids=6), TokenIdNgrams(n_ids=6)])
def test_token_id_transformers_accept_no_rows_and_all_pad_rows(transformer: TokenIdCounts | TokenIdNgrams) -> None:
    transformer = clone(transformer).fit(np.array([[2, 3, 0], [2, 3, 4]]))
    assert transformer.transform(np.zeros((0, 3), dtype=np.int64)).shape == (0, transformer.n_features_out_)
    empty = transformer.transform(np.zeros((2, 3), dtype=np.int64))
    assert empty.shape == (2, transformer.n_features_out_)
    assert np.diff(empty.indptr).tolist() == [empty.nnz // 2] * 2  # the same columns (buckets only) in each


def test_idf_weighting_handles_empty_rows_anywhere() -> None:
    counts = sp.csr_matrix(np.array([[0, 0, 0], [1, 2, 0], [0, 0, 0], [0, 1, 3], [0, 0, 0]], dtype=float))
    weighting = IdfWeighting().fit(counts)
    together = weighting.transform(counts).toarray()
    alone = np.vstack([weighting.transform(counts[i]).toarray() for i in range(counts.shape[0])])
    assert np.allclose(together, alone)
    assert np.allclose(np.linalg.norm(together, axis=1), [0, 1, 0, 1, 0])


def test_mean_probability_classifier_is_the_mean_of_its_fitted_members() -> None:
    ids, labels, encoder = _inputs("v3")
    n_ids = encoder.n_ids  # type: ignore[attr-defined]
    X = IdfWeighting().fit_transform(TokenIdNgrams(n_ids=n_ids).fit_transform(ids))
    members = [LeanLinearClassifier(loss="hinge"), LeanLinearClassifier(loss="log", C=10.0)]
    mean = MeanProbabilityClassifier(members).fit(X, labels)
    alone = [clone(member).fit(X, labels).predict_proba(X) for member in members]
    assert np.allclose(mean.predict_proba(X), (alone[0] + alone[1]) / 2)
    assert not hasattr(members[0], "coef_")  # members are cloned, the given ones stay unfitted
