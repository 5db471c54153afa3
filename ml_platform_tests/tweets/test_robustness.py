"""The classifier on kinds of text a real stream is full of, not on the generator's own tweets:
replies, greetings, thanks, sport/politics/weather, bare links, emoji, other languages must
not be called AI; papers, model releases and ML jobs must. The families are composed by
`robustness.py` from parts, mostly words the generator never writes."""

import numpy as np
import pytest

from ml_platform_tests.tweets import robustness

MAX_FALSE_POSITIVE_RATE = 0.02  # the bar for real non-AI tweets


def test_texts_not_about_ai_are_rarely_called_ai(trained_classifier):
    classifier = trained_classifier.result.classifier
    shares = robustness.called_ai(
        classifier.predict, classifier.threshold, robustness.NOT_AI_FAMILIES, about_ai=False
    )
    assert shares["all"] <= MAX_FALSE_POSITIVE_RATE, shares
    assert max(shares.values()) <= 0.1, shares  # and no family is given up on


@pytest.mark.parametrize("family", ["link only", "emoji only", "one-word replies"])
def test_text_without_topic_words_scores_near_or_below_the_base_rate(trained_classifier, family):
    """No evidence must mean the prior, not a confident call (the 0.996 of issue 19), and
    never NaN (the empty mean of a text with no word)."""
    classifier = trained_classifier.result.classifier
    scores = classifier.predict(robustness.family_texts(robustness.NOT_AI_FAMILIES[family]))
    assert np.isfinite(scores).all()
    base_rate = float(trained_classifier.tweets["is_ai"].mean())
    assert float(np.median(scores)) <= base_rate, (family, np.median(scores), base_rate)


def test_texts_about_ai_are_called_ai(trained_classifier):
    classifier = trained_classifier.result.classifier
    shares = robustness.called_ai(
        classifier.predict, classifier.threshold, robustness.AI_FAMILIES, about_ai=True
    )
    assert shares["all"] >= 0.8, shares
    assert min(shares.values()) >= 0.6, shares
