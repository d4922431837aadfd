"""Each hand-written scikit-learn part against scikit-learn itself, one row at a time (issue 14 §5).

    python scripts/bench_sklearn_parts.py --calls 2000

Fits on the dev CSV (tokenizer and models as v1, v2 and v3 are built), then times one-row calls of
ours and of the scikit-learn estimator it stands for, alternately, with scikit-learn at its leanest:
`set_config(assume_finite=True, skip_parameter_validation=True)` and one thread (threadpoolctl).
Prints a markdown table of p50 / p99 wall time and p99 CPU time in µs, and checks that both give the
same probabilities. The target is ≤ 1 ms per row (DESIGN §9).
"""

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from benchlib import DEV_CSV, PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # run as a plain script from anywhere

import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from training.features import v1_feature_matrix
from training.models import IdfWeighting, LeanLinearClassifier, PackedGradientBoosting, TokenIdNgrams
from training.raw_data import read_raw_csv
from training.tokenizer import SmsTokenizer

Call = Callable[[Any], Any]


def timed(call: Call, rows: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    wall, cpu = np.empty(len(rows)), np.empty(len(rows))
    for i, row in enumerate(rows):
        cpu_start, wall_start = time.thread_time_ns(), time.perf_counter_ns()
        call(row)
        wall[i], cpu[i] = time.perf_counter_ns() - wall_start, time.thread_time_ns() - cpu_start
    return wall / 1e3, cpu / 1e3


def compare(name: str, ours: Call, theirs: Call, rows: list[Any], *, atol: float = 1e-6) -> list[str]:
    """Alternate blocks of ours and theirs, so both see the same load."""
    if not np.allclose(np.asarray(ours(rows[0])), np.asarray(theirs(rows[0])), atol=atol):
        raise SystemExit(f"{name}: ours and scikit-learn's disagree")
    samples: dict[str, list[np.ndarray]] = {"ours": [], "scikit-learn": []}
    for start in range(0, len(rows), 200):
        block = rows[start : start + 200]
        for label, call in (("ours", ours), ("scikit-learn", theirs)):
            samples[label].append(np.vstack(timed(call, block)))
    lines = []
    for label, parts in samples.items():
        wall, cpu = np.hstack(parts)
        lines.append(f"| {name} | {label} | {np.percentile(wall, 50):.0f} | {np.percentile(wall, 99):.0f} | "
                     f"{np.percentile(cpu, 99):.0f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="one-row calls per part and side")
    args = parser.parse_args(argv)
    sklearn.set_config(assume_finite=True, skip_parameter_validation=True)
    raw = read_raw_csv(DEV_CSV)
    texts, labels = raw["text"].tolist(), (raw["label"] == "spam").to_numpy().astype(np.int64)
    tokenizer = SmsTokenizer().fit(texts)
    ids = tokenizer.transform(texts)
    counts = TokenIdNgrams(n_ids=tokenizer.n_ids_).fit(ids).transform(ids)
    weighted = IdfWeighting().fit(counts).transform(counts)
    pick = [i % len(texts) for i in range(args.calls)]
    count_rows = [counts[i : i + 1] for i in pick]
    weighted_rows = [weighted[i : i + 1] for i in pick]
    v1 = v1_feature_matrix(texts)
    v1_rows = [v1[i : i + 1] for i in pick]

    ours_idf, their_idf = IdfWeighting().fit(counts), TfidfTransformer(sublinear_tf=True).fit(counts)
    ours_log = LeanLinearClassifier(loss="log", C=10.0).fit(weighted, labels)
    their_log = LogisticRegression(C=10.0, max_iter=5000, random_state=42).fit(weighted, labels)
    ours_svm = LeanLinearClassifier(loss="hinge", C=1.0).fit(weighted, labels)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    their_svm = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=42), method="sigmoid", cv=folds,
                                       ensemble=False).fit(weighted, labels)
    ours_trees = PackedGradientBoosting().fit(v1, labels)
    their_trees = GradientBoostingClassifier(n_estimators=100, learning_rate=0.1, max_leaf_nodes=15, max_depth=None,
                                             random_state=42).fit(v1, labels)
    histogram_trees = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=15,
                                                     early_stopping=False, random_state=42).fit(v1, labels)
    lines = ["| part | implementation | p50 µs | p99 µs | CPU p99 µs |", "|---|---|---|---|---|"]
    with threadpool_limits(limits=1):
        lines += compare("tf-idf (v2, v3)", lambda r: ours_idf.transform(r).toarray(),
                         lambda r: their_idf.transform(r).toarray(), count_rows)
        lines += compare("logistic regression (v2, v3)", ours_log.predict_proba, their_log.predict_proba,
                         weighted_rows)
        # CalibratedClassifierCV's sigmoid smooths the labels (Platt's priors), ours does not: close, not equal.
        lines += compare("Platt-scaled linear SVM (v3)", ours_svm.predict_proba, their_svm.predict_proba,
                         weighted_rows, atol=0.05)
        lines += compare("gradient-boosted trees (v1)", ours_trees.predict_proba, their_trees.predict_proba,
                         v1_rows)
        # v1 used HistGradientBoosting until its trees, which are private, could no longer be packed.
        lines += compare("histogram gradient boosting (v1 before)", ours_trees.predict_proba,
                         histogram_trees.predict_proba, v1_rows, atol=0.5)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
