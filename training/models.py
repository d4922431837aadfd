"""The estimators model versions are built from (training.versions declares which), and the token-id transformers.

v1 takes the (n, 9) float v1 features; v2 and v3 take the (n, 30) int64 token ids of
`training.tokenizer.SmsTokenizer`. Every estimator has `predict_proba` with `classes_ == [0, 1]`
(1 = spam). Prediction paths avoid scikit-learn's per-call input validation (~0.3 ms per estimator
on the 2-core target), so one row takes ~0.2-0.4 ms of CPU; docs/models.md has the measurements.
"""

import itertools
import time
from bisect import bisect_right
from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

PAD_ID = 0  # same as SmsTokenizer.PAD_ID; repeated so a model artifact does not import the tokenizer
OOV_ID = 1
# Up to this many rows the tokenizer and the token-id transforms run row by row in plain Python: the
# vectorised path's ~20-50 numpy calls cost more below about this size (measured per transform, one
# row: 40-60 µs in Python against 100-240 µs vectorised), and serving mostly sends one row.
SMALL_BATCH = 4


def _as_id_matrix(X: object, n_ids: int) -> np.ndarray:
    ids = np.asarray(X, dtype=np.int64)
    if ids.ndim != 2:
        raise ValueError(f"expected a 2-D array of token ids, got shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_ids):
        raise ValueError(f"token ids must lie in [0, {n_ids}); was the model fitted on this tokenizer?")
    return ids


def _columns_to_csr(columns: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """CSR counts from an (n, k) array of each row's columns, -1 where a slot holds none.

    Indices come out sorted within each row, and scipy gets (data, indices, indptr) directly: its
    other constructors cost tens of µs each, which a one-row request would pay on every call.
    """
    columns = np.sort(columns, axis=1)  # the -1s first; a row's repeats side by side
    rows, slots = np.nonzero(columns >= 0)
    flat = columns[rows, slots]
    is_start = np.ones(len(flat), dtype=bool)  # the first of a run of equal columns in one row
    is_start[1:] = (flat[1:] != flat[:-1]) | (rows[1:] != rows[:-1])
    starts = np.flatnonzero(is_start)
    counts = np.diff(np.append(starts, len(flat)))
    indptr = np.zeros(len(columns) + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows[starts], minlength=len(columns)), out=indptr[1:])
    arrays = (counts.astype(np.float64), flat[starts].astype(np.int32), indptr)
    return sp.csr_matrix(arrays, shape=(len(columns), n_cols))


def _lists_to_csr(rows: list[list[int]], n_cols: int) -> sp.csr_matrix:
    """`_columns_to_csr` of rows given as lists of columns: the same matrix, built in plain Python,
    which beats numpy's per-call cost (~1 µs a call, ~20 calls) for the few rows serving sends."""
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for columns in rows:
        counts = Counter(columns)
        for column in sorted(counts):
            indices.append(column)
            data.append(float(counts[column]))
        indptr.append(len(indices))
    arrays = (
        np.asarray(data, dtype=np.float64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(indptr, dtype=np.int32),
    )
    return sp.csr_matrix(arrays, shape=(len(rows), n_cols))


def _real_first(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's real (non-PAD) ids moved to its front in order, PAD after them, and their count.

    A PAD in the middle of a row (a client may send one) is skipped, so its neighbours form a bigram.
    """
    real = ids != PAD_ID
    order = np.argsort(~real, axis=1, kind="stable")
    return np.take_along_axis(ids, order, axis=1), real.sum(axis=1)


def _real_ids(row: list[int]) -> list[int]:
    return [token for token in row if token != PAD_ID]


def _unigram_columns(compact: np.ndarray, n_real: np.ndarray) -> np.ndarray:
    return np.where(np.arange(compact.shape[1]) < n_real[:, None], compact, -1)


def _bigram_codes(compact: np.ndarray, n_real: np.ndarray, n_ids: int) -> tuple[np.ndarray, np.ndarray]:
    """Each adjacent pair of real ids as one integer (first * n_ids + second), and where a pair exists."""
    codes = compact[:, :-1] * n_ids + compact[:, 1:]
    return codes, np.arange(1, compact.shape[1]) < n_real[:, None]


_N_OOV_BUCKETS = 4
_LENGTH_EDGES = (1, 5, 10, 15, 20, 25)  # real-token counts: 0, 1-4, 5-9, ..., 25+
_N_LENGTH_BUCKETS = len(_LENGTH_EDGES) + 1


class TokenIdCounts(BaseEstimator, TransformerMixin):
    """Bag of token ids: (n, length) int ids → sparse (n, n_ids) counts, PAD not counted.

    Stateless apart from `n_ids` (the tokenizer's `n_ids_`); ids outside [0, n_ids) are an error,
    because they mean the model and the tokenizer do not belong together.
    """

    def __init__(self, *, n_ids: int = 2) -> None:
        self.n_ids = n_ids

    def fit(self, X: object, y: object = None) -> "TokenIdCounts":
        _as_id_matrix(X, self.n_ids)
        self.n_features_out_ = self.n_ids
        return self

    def transform(self, X: object) -> sp.csr_matrix:
        ids = _as_id_matrix(X, self.n_ids)
        if len(ids) <= SMALL_BATCH:
            return _lists_to_csr([_real_ids(row) for row in ids.tolist()], self.n_ids)
        return _columns_to_csr(np.where(ids != PAD_ID, ids, -1), self.n_ids)


class TokenIdNgrams(BaseEstimator, TransformerMixin):
    """Sparse id unigrams + bigrams seen in training + position-aware indicator columns.

    Bigrams are learned in `fit` (those in at least `min_df` texts) so the column space stays small.
    Position columns, all 0/1 so that tf-idf weighting treats them like words: the first and the last
    real token id (spam opens with "free"/"urgent"/"check" and closes with "stop"/<num>, which a bag of
    words loses), the number of OOV ids (0, 1, 2, 3+), the number of real tokens in 7 buckets, and
    whether the text fills every slot (it was probably truncated).

    Column layout: unigrams | bigrams | first id | last id | OOV bucket | length bucket | full.
    """

    def __init__(self, *, n_ids: int = 2, min_df: int = 2) -> None:
        self.n_ids = n_ids
        self.min_df = min_df

    def fit(self, X: object, y: object = None) -> "TokenIdNgrams":
        ids = _as_id_matrix(X, self.n_ids)
        codes, exists = _bigram_codes(*_real_first(ids), self.n_ids)
        rows = np.nonzero(exists)[0]
        # Document frequency: each (row, pair) once, then the rows per pair.
        per_row = np.unique(rows * self.n_ids**2 + codes[exists]) % self.n_ids**2
        pairs, documents = np.unique(per_row, return_counts=True)
        kept = pairs[documents >= self.min_df]
        self.bigram_index_: dict[tuple[int, int], int] = {
            (int(code) // self.n_ids, int(code) % self.n_ids): i for i, code in enumerate(kept)
        }
        self.length_ = ids.shape[1]
        position_columns = 2 * self.n_ids + _N_OOV_BUCKETS + _N_LENGTH_BUCKETS + 1
        self.n_features_out_ = self.n_ids + len(kept) + position_columns
        return self

    def _kept_codes(self) -> np.ndarray:
        """bigram_index_'s pairs as sorted codes (their index order), derived on first use."""
        cached = self.__dict__.get("_codes")
        if cached is None:
            pairs = sorted(self.bigram_index_, key=self.bigram_index_.__getitem__)
            cached = self.__dict__["_codes"] = np.asarray([a * self.n_ids + b for a, b in pairs], dtype=np.int64)
        return cached

    def transform(self, X: object) -> sp.csr_matrix:
        ids = _as_id_matrix(X, self.n_ids)
        if len(ids) <= SMALL_BATCH:
            return _lists_to_csr([self._row_columns(row) for row in ids.tolist()], self.n_features_out_)
        compact, n_real = _real_first(ids)
        first_at = self.n_ids + len(self.bigram_index_)
        oov_at = first_at + 2 * self.n_ids
        length_at = oov_at + _N_OOV_BUCKETS
        has_real = n_real > 0
        last = compact[np.arange(len(ids)), np.maximum(n_real - 1, 0)]
        position_columns = np.column_stack([
            np.where(has_real, first_at + compact[:, 0], -1),
            np.where(has_real, first_at + self.n_ids + last, -1),
            oov_at + np.minimum((ids == OOV_ID).sum(axis=1), _N_OOV_BUCKETS - 1),
            length_at + np.searchsorted(_LENGTH_EDGES, n_real, side="right"),
            np.where(n_real >= self.length_, length_at + _N_LENGTH_BUCKETS, -1),
        ])  # fmt: skip
        columns = [_unigram_columns(compact, n_real), self._bigram_columns(compact, n_real), position_columns]
        return _columns_to_csr(np.hstack(columns), self.n_features_out_)

    def _row_columns(self, row: list[int]) -> list[int]:
        """One row's columns as `transform` lays them out, in plain Python (see SMALL_BATCH)."""
        real = _real_ids(row)
        first_at = self.n_ids + len(self.bigram_index_)
        oov_at = first_at + 2 * self.n_ids
        length_at = oov_at + _N_OOV_BUCKETS
        columns = list(real)
        found = map(self.bigram_index_.get, itertools.pairwise(real))
        columns += [self.n_ids + column for column in found if column is not None]
        if real:
            columns += [first_at + real[0], first_at + self.n_ids + real[-1]]
        columns.append(oov_at + min(real.count(OOV_ID), _N_OOV_BUCKETS - 1))
        columns.append(length_at + bisect_right(_LENGTH_EDGES, len(real)))
        if len(real) >= self.length_:
            columns.append(length_at + _N_LENGTH_BUCKETS)
        return columns

    def _bigram_columns(self, compact: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """The column of each adjacent pair learned in `fit`, -1 for pairs it did not keep."""
        kept = self._kept_codes()
        codes, exists = _bigram_codes(compact, n_real, self.n_ids)
        at = np.minimum(np.searchsorted(kept, codes), max(len(kept) - 1, 0))
        found = exists & (kept[at] == codes) if len(kept) else np.zeros_like(exists)
        return np.where(found, self.n_ids + at, -1)


class IdfWeighting(BaseEstimator, TransformerMixin):
    """Sublinear tf-idf with L2 row norm, like TfidfTransformer but with a lean transform.

    scikit-learn's own transformers validate their input on every call, which alone costs ~0.3 ms per
    row on the 2-core target; serving predicts one row at a time, so the hot path here is plain numpy.
    """

    def __init__(self, *, sublinear_tf: bool = True) -> None:
        self.sublinear_tf = sublinear_tf

    def fit(self, X: sp.spmatrix, y: object = None) -> "IdfWeighting":
        counts = sp.csr_matrix(X)
        n_docs = counts.shape[0]
        doc_freq = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = np.log((1.0 + n_docs) / (1.0 + doc_freq)) + 1.0  # smooth idf, as scikit-learn
        return self

    def transform(self, X: sp.spmatrix) -> sp.csr_matrix:
        weighted = sp.csr_matrix(X, dtype=np.float64, copy=True)
        if self.sublinear_tf:
            np.log(weighted.data, out=weighted.data)
            weighted.data += 1.0
        weighted.data *= self.idf_[weighted.indices]
        row_nnz = np.diff(weighted.indptr)
        filled = row_nnz > 0
        # reduceat over the starts of non-empty rows only: it mishandles an empty row (a text that
        # tokenizes to nothing), and fails outright when that row comes last.
        norms = np.ones(len(row_nnz))
        if weighted.nnz:
            norms[filled] = np.sqrt(np.add.reduceat(weighted.data**2, weighted.indptr[:-1][filled]))
        weighted.data /= np.repeat(norms, row_nnz)
        return weighted


class LeanLinearClassifier(BaseEstimator, ClassifierMixin):
    """Binary linear classifier fitted by scikit-learn, predicting with one sparse dot product.

    `loss="log"` fits LogisticRegression, whose probabilities are used as they are; `loss="hinge"`
    fits LinearSVC and Platt-scales its scores with a sigmoid fitted on 5-fold out-of-fold scores
    (what CalibratedClassifierCV(method="sigmoid", ensemble=False) does), because an SVM's margin is
    not a probability.
    """

    def __init__(
        self, *, loss: str = "log", C: float = 1.0, class_weight: str | None = None, random_state: int = 42
    ) -> None:
        self.loss = loss
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: sp.spmatrix, y: np.ndarray) -> "LeanLinearClassifier":
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if self.classes_.tolist() != [0, 1]:
            raise ValueError(f"expected labels 0 (ham) and 1 (spam), got {self.classes_.tolist()}")
        base = self._base_estimator().fit(X, labels)
        self.coef_ = np.ravel(base.coef_).astype(np.float64)
        self.intercept_ = float(np.ravel(base.intercept_)[0])
        self.platt_ = (1.0, 0.0) if self.loss == "log" else self._fit_platt(X, labels)
        return self

    def _base_estimator(self) -> LogisticRegression | LinearSVC:
        if self.loss == "log":
            return LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=5000, random_state=self.random_state
            )
        if self.loss == "hinge":
            return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        raise ValueError(f"loss must be 'log' or 'hinge', got {self.loss!r}")

    def _fit_platt(self, X: sp.spmatrix, labels: np.ndarray) -> tuple[float, float]:
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=self.random_state)
        scores = cross_val_predict(self._base_estimator(), X, labels, cv=folds, method="decision_function")
        sigmoid = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), labels)
        return float(sigmoid.coef_[0, 0]), float(sigmoid.intercept_[0])

    def decision_function(self, X: sp.spmatrix) -> np.ndarray:
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        slope, offset = self.platt_
        spam = expit(slope * self.decision_function(X) + offset)
        return np.column_stack([1.0 - spam, spam])

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)]


class MeanProbabilityClassifier(BaseEstimator, ClassifierMixin):
    """Mean spam probability of several classifiers fitted on the same input.

    v3 averages a calibrated SVM and a logistic regression: the two losses weigh hard examples
    differently (hinge ignores texts beyond the margin, log loss does not), so their errors are only
    partly shared, and the mean is steadier across folds than either (docs/models.md).
    """

    def __init__(self, members: list[BaseEstimator]) -> None:
        self.members = members

    def fit(self, X: sp.spmatrix, y: np.ndarray) -> "MeanProbabilityClassifier":
        self.members_ = [clone(member).fit(X, y) for member in self.members]
        self.classes_ = self.members_[0].classes_
        return self

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        return sum(member.predict_proba(X) for member in self.members_) / len(self.members_)

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)]


class PackedGradientBoosting(BaseEstimator, ClassifierMixin):
    """GradientBoostingClassifier for fitting, with its trees packed into arrays for prediction.

    Calling scikit-learn's boosters costs ~2 ms per row on the 2-core target even at their leanest
    (docs/models.md). Instead, every split of every tree is tested at once, and a leaf is reached when
    each split on its path went its way: two numpy steps, whatever the depth. The trees come from the
    public `tree_` of each fitted stage (HistGradientBoosting keeps its trees private), grown best-first
    to `max_leaf_nodes` leaves as HistGradientBoosting grows them. `fit` checks that the packed trees
    reproduce the booster's scores. Inputs must be finite, as serving validates them.
    """

    def __init__(
        self, *, max_iter: int = 100, learning_rate: float = 0.1, max_leaf_nodes: int = 15, random_state: int = 42
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> "PackedGradientBoosting":
        features = np.asarray(X, dtype=np.float64)
        booster = GradientBoostingClassifier(
            n_estimators=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            max_depth=None,
            random_state=self.random_state,
        ).fit(features, y)
        self.classes_ = booster.classes_
        self.n_features_in_ = features.shape[1]
        _PackedTrees.pack([stage.tree_ for stage in booster.estimators_[:, 0]], scale=self.learning_rate).store(self)
        reference = booster.decision_function(features)
        # The baseline (log-odds of the prior) is what the packed trees miss of the booster's score.
        self.baseline_ = float(np.mean(reference - self._tree_sum(features)))
        if not np.allclose(self.decision_function(features), reference, atol=1e-8):
            raise RuntimeError("packed trees disagree with GradientBoostingClassifier")
        return self

    def _tree_sum(self, features: np.ndarray) -> np.ndarray:
        # scikit-learn's trees compare float32 inputs with float64 thresholds.
        goes_left = features[:, self.split_feature_].astype(np.float32) <= self.split_threshold_
        # One extra always-true column lets short paths be padded to the same length.
        goes_left = np.column_stack([goes_left, np.ones(len(features), dtype=bool)]).astype(np.float64)
        steps, right_steps = self._leaf_steps()
        # A leaf is reached when every step of its path went its way: count the steps that did.
        went_its_way = steps @ goes_left.T + right_steps[:, None]
        return self.leaf_value_ @ (went_its_way > self.leaf_path_.shape[1] - 0.5)

    def _leaf_steps(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """Per leaf, +1 on each split it takes to the left and -1 on each it takes to the right: a row
        then takes `steps @ goes_left + right_steps` of the leaf's steps. Derived from leaf_path_ and
        leaf_direction_ on first use. A sparse product beats indexing a (rows, leaves, depth) cube,
        1.1 ms for 2 to 32 rows, by 2-5x for the batches serving sends (docs/benchmarks.md)."""
        cached = self.__dict__.get("_steps")
        if cached is None:
            n_leaves, depth = self.leaf_path_.shape
            sign = np.where(self.leaf_direction_.ravel(), 1.0, -1.0)
            leaf = np.repeat(np.arange(n_leaves), depth)
            shape = (n_leaves, len(self.split_feature_) + 1)
            steps = sp.csr_matrix((sign, (leaf, self.leaf_path_.ravel())), shape=shape)  # repeats add up
            cached = self.__dict__["_steps"] = (steps, (~self.leaf_direction_).sum(axis=1).astype(np.float64))
        return cached

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        if "split_missing_left_" in self.__dict__:  # packed from the private trees of HistGradientBoosting
            raise RuntimeError("this v1 model was packed by an older spamops from HistGradientBoostingClassifier, "
                               "whose thresholds mean other splits here; retrain it (make models)")
        features = np.asarray(X, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.n_features_in_:
            raise ValueError(f"expected shape (n, {self.n_features_in_}), got {features.shape}")
        # Past a few dozen rows the sparse product slows down per row (measured), so go in chunks.
        chunks = [self._tree_sum(features[i : i + 32]) for i in range(0, len(features), 32)]
        return (np.concatenate(chunks) if chunks else np.zeros(0)) + self.baseline_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        spam = expit(self.decision_function(X))
        return np.column_stack([1.0 - spam, spam])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)]


class _PackedTrees:
    """Splits and root-to-leaf paths of many trees, as flat arrays (built once per fit)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale  # each stage's learning rate: its leaf values count this much
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.paths: list[list[tuple[int, bool]]] = []
        self.values: list[float] = []

    @classmethod
    def pack(cls, trees: list[Any], *, scale: float) -> "_PackedTrees":
        packed = cls(scale)
        for tree in trees:
            packed._add_tree(tree)
        return packed

    def _add_tree(self, tree: Any) -> None:
        """One fitted `sklearn.tree._tree.Tree` (its documented attributes only)."""
        split_of: dict[int, int] = {}
        stack: list[tuple[int, list[tuple[int, bool]]]] = [(0, [])]
        while stack:
            node, path = stack.pop()
            if tree.children_left[node] == -1:  # TREE_LEAF
                self.paths.append(path)
                self.values.append(self.scale * float(tree.value[node, 0, 0]))
                continue
            split_of[node] = len(self.feature)
            self.feature.append(int(tree.feature[node]))
            self.threshold.append(float(tree.threshold[node]))
            stack.append((int(tree.children_left[node]), [*path, (split_of[node], True)]))
            stack.append((int(tree.children_right[node]), [*path, (split_of[node], False)]))

    def store(self, model: PackedGradientBoosting) -> None:
        depth = max(len(path) for path in self.paths)
        always_true = len(self.feature)
        padded = [path + [(always_true, True)] * (depth - len(path)) for path in self.paths]
        model.split_feature_ = np.asarray(self.feature, dtype=np.int64)
        model.split_threshold_ = np.asarray(self.threshold, dtype=np.float64)
        model.leaf_path_ = np.asarray([[split for split, _ in path] for path in padded], dtype=np.int64)
        model.leaf_direction_ = np.asarray([[left for _, left in path] for path in padded], dtype=bool)
        model.leaf_value_ = np.asarray(self.values, dtype=np.float64)


def single_row_latency(estimator: BaseEstimator, X: np.ndarray, *, n_calls: int = 1000) -> dict[str, float]:
    """p50/p99/max wall time in µs of `predict_proba` on one row, cycling through the rows of `X`.

    Also reports the p99 of the thread's CPU time, which excludes the time the scheduler gave to
    other processes: on a shared 2-core machine wall p99 is dominated by such preemption.
    """
    rows = [X[i % len(X) : i % len(X) + 1] for i in range(n_calls)]
    estimator.predict_proba(rows[0])  # warm caches before timing
    wall = np.empty(n_calls)
    cpu = np.empty(n_calls)
    for i, row in enumerate(rows):
        cpu_start, wall_start = time.thread_time_ns(), time.perf_counter_ns()
        estimator.predict_proba(row)
        wall[i], cpu[i] = time.perf_counter_ns() - wall_start, time.thread_time_ns() - cpu_start
    return {
        "p50_us": float(np.percentile(wall, 50)) / 1e3,
        "p99_us": float(np.percentile(wall, 99)) / 1e3,
        "max_us": float(wall.max()) / 1e3,
        "cpu_p99_us": float(np.percentile(cpu, 99)) / 1e3,
        "n_calls": n_calls,
    }
