"""Labelling functions, their analysis and the label model, on tweets and votes made by hand."""

import numpy as np
import pandas as pd

from ml_platform.tweets.label_model import DawidSkene
from ml_platform.tweets.labelling_functions import (
    ABSTAIN,
    AI,
    LABELLING_FUNCTIONS,
    NOT_AI,
    analysis,
    apply_labelling_functions,
    majority_vote,
)


def votes_for(text: str, urls: str = "") -> dict[str, int]:
    tweets = pd.DataFrame({"text": [text], "entity_urls": [urls]})
    row = apply_labelling_functions(tweets)[0]
    return {f.name: int(v) for f, v in zip(LABELLING_FUNCTIONS, row, strict=True) if v != ABSTAIN}


def test_rules_vote_ai_on_the_fields_words_hashtags_links_and_other_languages():
    assert votes_for("Fine-tuning LLMs with PyTorch #MachineLearning") == {
        "ai_keywords": AI,
        "ai_hashtags": AI,
        "ml_frameworks": AI,
    }
    # two words and a link: the short-reply rule disagrees, as rules do; the label model weighs them
    assert votes_for("read this", "https://www.arxiv.org/abs/2401.00001") == {
        "ai_link_domains": AI,
        "short_reply": NOT_AI,
    }
    assert votes_for("Charla sobre inteligencia artificial hoy") == {"ai_other_languages": AI}


def test_look_alikes_get_the_negative_rules_and_gpt_needs_a_number():
    assert votes_for("Switching to the new big data plan for my phone") == {
        "phone_data_plans": NOT_AI
    }
    assert votes_for("ALT and GPT liver enzyme levels came back high") == {"medical_neural": NOT_AI}
    assert votes_for("Ask GPT-4o anything you like") == {"model_names": AI}


def test_analysis_counts_coverage_overlaps_and_conflicts_as_snorkel_does():
    votes = np.array(
        [
            [AI, AI, ABSTAIN],  # two agree
            [AI, ABSTAIN, NOT_AI],  # conflict
            [ABSTAIN, ABSTAIN, NOT_AI],  # alone
            [ABSTAIN, ABSTAIN, ABSTAIN],
        ]
    )
    gold = np.array([AI, NOT_AI, NOT_AI, ABSTAIN])
    table = analysis(votes, LABELLING_FUNCTIONS[:3], gold).set_index("function")
    first = table.iloc[0]
    assert first["coverage"] == 0.5 and first["overlaps"] == 0.5 and first["conflicts"] == 0.25
    assert (first["correct"], first["incorrect"], first["empirical_accuracy"]) == (1, 1, 0.5)
    third = table.iloc[2]
    assert third["polarity"] == "[0]"
    assert (third["coverage"], third["overlaps"], third["conflicts"]) == (0.5, 0.25, 0.25)
    assert third["empirical_accuracy"] == 1.0


def test_majority_vote_abstains_on_ties_and_silence():
    votes = np.array([[AI, NOT_AI], [AI, ABSTAIN], [ABSTAIN, ABSTAIN], [NOT_AI, NOT_AI]])
    assert majority_vote(votes).tolist() == [ABSTAIN, AI, ABSTAIN, NOT_AI]


def simulated_votes(rng: np.random.Generator, truth: np.ndarray) -> np.ndarray:
    """Three good rules and two that vote often but are right only 60% of the time."""
    columns = []
    for coverage, accuracy, label in [
        (0.5, 0.95, AI), (0.4, 0.95, AI), (0.5, 0.95, NOT_AI), (0.7, 0.6, AI), (0.7, 0.6, AI),
    ]:  # fmt: skip
        fires = rng.random(len(truth)) < coverage
        right = rng.random(len(truth)) < accuracy
        # a unipolar rule fires on its label's tweets when right, on the others when wrong
        hit = np.where(truth == label, right, ~right) & fires
        columns.append(np.where(hit, label, ABSTAIN))
    return np.column_stack(columns)


def test_label_model_learns_which_rules_to_trust_and_beats_majority_vote():
    rng = np.random.default_rng(3)
    truth = (rng.random(8000) < 0.35).astype(int)
    votes = simulated_votes(rng, truth)
    model = DawidSkene().fit(votes)
    predicted = model.predict_proba(votes) >= 0.5
    label_model_accuracy = (predicted == truth).mean()
    majority_accuracy = ((majority_vote(votes) == AI) == truth).mean()
    assert label_model_accuracy > majority_accuracy + 0.03
    accuracies = model.accuracies()
    assert accuracies[:3].min() > accuracies[3:].max()
    assert abs(model.class_prior[1] - 0.35) < 0.05


def test_short_reply_votes_not_ai_on_reactions_only():
    from ml_platform.tweets.labelling_functions import LABELLING_FUNCTIONS, NOT_AI

    short_reply = next(f for f in LABELLING_FUNCTIONS if f.name == "short_reply")
    tweets = pd.DataFrame(
        {
            "text": [
                "@someone Great!",
                "@a @b thank you 🙏 https://t.co/x",
                "😂😂",
                "New paper on diffusion models for video generation",
            ],
            "entity_urls": ["", "", "", ""],
        }
    )
    assert short_reply(tweets).tolist() == [NOT_AI, NOT_AI, NOT_AI, -1]
