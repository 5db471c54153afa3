"""Calibration and threshold helpers (pure numpy): Platt scaling, Brier score, the reliability
table, and the threshold rule that prefers the higher of equally good cuts."""

import numpy as np
import pytest

from ml_platform.tweets import evaluation


def test_platt_scaling_recovers_the_logistic_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, 20_000)
    truth = rng.random(20_000) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))
    slope, intercept = evaluation.fit_platt(logits, truth)
    assert slope == pytest.approx(0.5, abs=0.05)
    assert intercept == pytest.approx(-1.0, abs=0.1)
    assert evaluation.fit_platt(logits, np.zeros(20_000)) == (1.0, 0.0)


def test_brier_score_and_reliability_of_calibrated_and_overconfident_scores():
    rng = np.random.default_rng(1)
    probability = rng.random(50_000)
    truth = rng.random(50_000) < probability  # calibrated by construction
    assert evaluation.brier_score(truth, truth.astype(float)) == 0.0
    assert evaluation.brier_score(truth, np.full(50_000, 0.5)) == pytest.approx(0.25)
    table = evaluation.reliability(truth, probability)
    assert table["tweets"].sum() == 50_000
    assert np.allclose(table["mean_predicted"], table["observed_ai_share"], atol=0.02)
    overconfident = np.where(probability >= 0.5, 0.99, 0.01)
    assert evaluation.expected_calibration_error(truth, probability) < 0.01
    assert evaluation.expected_calibration_error(truth, overconfident) > 0.2


def test_threshold_is_the_highest_cut_about_as_good_as_the_best_on_dev():
    truth = np.array([0] * 50 + [1] * 50)
    scores = np.concatenate([np.linspace(0.0, 0.1, 50), np.linspace(0.8, 1.0, 50)])
    # every cut in (0.1, 0.8] separates the classes: take the top of that range
    assert evaluation.best_threshold(truth, scores) == pytest.approx(0.8)
    assert evaluation.best_threshold(np.zeros(100, int), scores) == 0.5
    # a cut below 0.5 is never taken: calibrated on dev's AI share, a rarer share moves it up
    low = np.concatenate([np.linspace(0.0, 0.1, 50), np.linspace(0.2, 0.3, 50)])
    assert evaluation.best_threshold(truth, low) == 0.5
