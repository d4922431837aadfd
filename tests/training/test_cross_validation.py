"""Repeated grouped CV summary: lower bound and reliability curve computed from fold scores."""

import numpy as np
import pytest

from training.cross_validation import METRIC_KEYS, reliability, summarize


def test_summarize_lower_bound_is_mean_minus_sample_sd() -> None:
    scores = {key: [0.90, 0.92, 0.94, 0.96] for key in METRIC_KEYS}
    f1 = summarize(scores)["f1_spam"]
    assert f1["mean"] == pytest.approx(0.93)
    assert f1["lower"] == pytest.approx(0.93 - np.std([0.90, 0.92, 0.94, 0.96], ddof=1))
    assert f1["min"] == pytest.approx(0.90)


def test_reliability_bins_report_observed_rate() -> None:
    y = np.array([0, 0, 1, 1, 1])
    curve = reliability(y, np.array([0.05, 0.95, 0.91, 0.99, 0.02]), n_bins=10)
    assert [(point["bin"], point["n"]) for point in curve] == [(0.0, 2), (0.9, 3)]
    assert curve[1]["observed"] == pytest.approx(2 / 3)
