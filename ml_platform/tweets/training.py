"""From split tweets and golden labels to weak labels, and from weak labels to a classifier, with
every labeller measured on the same golden test tweets. The assets and `ml-platform tweets
train` both run these functions.
"""

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.tweets import classifier, evaluation
from ml_platform.tweets.classifier import ClassifierConfig, TweetClassifier
from ml_platform.tweets.label_model import DawidSkene
from ml_platform.tweets.labelling_functions import (
    ABSTAIN,
    LABELLING_FUNCTIONS,
    analysis,
    apply_labelling_functions,
    majority_vote,
)

# Fewer snorkel_train tweets than this and the label model is fitted on every split instead:
# EM needs enough votes per function to estimate its confusion matrix.
MIN_LABEL_MODEL_TWEETS = 200
# Fewer golden dev labels than this cannot steer early stopping or the threshold.
MIN_DEV_LABELS = 30


@dataclass
class WeakLabels:
    """`table`: tweet_id, split, one `lf_<name>` vote column per function, `majority_vote`,
    `label_model_probability`; `analysis`: the LF analysis table."""

    table: pd.DataFrame
    analysis: pd.DataFrame
    label_model: DawidSkene
    fitted_on: str


def gold_for(tweet_ids: pd.Series, golden: pd.DataFrame) -> np.ndarray:
    """Golden label per tweet id, ABSTAIN (-1) where people have not labelled it."""
    if golden.empty:
        return np.full(len(tweet_ids), ABSTAIN, dtype=np.int64)
    labels = golden.set_index("tweet_id")["label"]
    return tweet_ids.map(labels).fillna(ABSTAIN).to_numpy(dtype=np.int64)


def weak_labels(tweets: pd.DataFrame, golden: pd.DataFrame) -> WeakLabels:
    """Votes of every labelling function on every split tweet, and the label model's P(AI),
    fitted on `snorkel_train` as in the original pipeline."""
    votes = apply_labelling_functions(tweets)
    in_snorkel = (tweets["split"] == "snorkel_train").to_numpy()
    enough = in_snorkel.sum() >= MIN_LABEL_MODEL_TWEETS
    model = DawidSkene().fit(votes[in_snorkel] if enough else votes)
    table = pd.DataFrame(
        {
            "tweet_id": tweets["tweet_id"].to_numpy(dtype=np.int64),
            "split": tweets["split"].astype("str").to_numpy(),
            **{
                f"lf_{f.name}": votes[:, i].astype(np.int64)
                for i, f in enumerate(LABELLING_FUNCTIONS)
            },
            "majority_vote": majority_vote(votes).astype(np.int64),
            "label_model_probability": model.predict_proba(votes) if len(votes) else np.empty(0),
        }
    )
    lf_analysis = analysis(votes, LABELLING_FUNCTIONS, gold_for(tweets["tweet_id"], golden))
    lf_analysis["learned_accuracy"] = model.accuracies()
    return WeakLabels(table, lf_analysis, model, "snorkel_train" if enough else "all splits")


def votes_of(weak: pd.DataFrame) -> np.ndarray:
    return weak[[f"lf_{f.name}" for f in LABELLING_FUNCTIONS]].to_numpy(dtype=np.int8)


def evaluate_labellers(weak: pd.DataFrame, golden: pd.DataFrame) -> pd.DataFrame:
    """Each labelling function, majority vote and the label model on every golden-labelled
    split tweet (the labeller never trained on golden labels, so all of them are fair)."""
    gold = gold_for(weak["tweet_id"], golden)
    known = gold != ABSTAIN
    subset = weak[known]
    return evaluation.labeller_evaluation(
        votes_of(subset),
        LABELLING_FUNCTIONS,
        subset["label_model_probability"].to_numpy(),
        subset["majority_vote"].to_numpy(),
        gold[known],
    )


@dataclass
class TrainedClassifier:
    classifier: TweetClassifier
    metrics: dict[str, float]
    comparison: pd.DataFrame  # classifier / label model / majority vote on the same test tweets
    confusion: pd.DataFrame
    test_truth: np.ndarray
    test_scores: np.ndarray
    history: dict[str, list[float]]
    evaluated_on: str
    reliability: pd.DataFrame  # the test split's reliability diagram, as a table
    threshold_chosen_on: str


def train_tweet_classifier(
    tweets: pd.DataFrame,
    weak: pd.DataFrame,
    golden: pd.DataFrame,
    config: ClassifierConfig,
    *,
    version: int,
    seed: int = 42,
    callbacks: Sequence[Any] = (),
) -> TrainedClassifier:
    """Train on train + snorkel_train (weak soft labels where a function voted, golden labels
    where people gave one), stop early and pick the threshold on dev, evaluate on test.

    Golden test labels are the judge when there are any; before people have labelled, test is
    judged by the label model's own labels, and the metrics say so.
    """
    frame = tweets[["tweet_id", "text", "split"]].merge(
        weak[["tweet_id", "label_model_probability", "majority_vote", *_lf_columns()]],
        on="tweet_id",
        how="inner",
    )
    gold = gold_for(frame["tweet_id"], golden)
    split = frame["split"].to_numpy()
    voted = (votes_of(frame) != ABSTAIN).any(axis=1)
    train_rows = np.isin(split, ["train", "snorkel_train"]) & (voted | (gold != ABSTAIN))
    targets = np.where(gold != ABSTAIN, gold, frame["label_model_probability"].to_numpy())
    weights = np.where(gold != ABSTAIN, config.golden_weight, 1.0)

    dev = split == "dev"
    dev_gold = dev & (gold != ABSTAIN)
    if dev_gold.sum() >= MIN_DEV_LABELS:
        dev_rows, dev_truth = dev_gold, gold[dev_gold]
        threshold_chosen_on = f"golden labels of dev ({int(dev_gold.sum())} tweets)"
    else:
        dev_rows = dev
        dev_truth = (frame["label_model_probability"].to_numpy()[dev] >= 0.5).astype(int)
        threshold_chosen_on = f"label model's labels of dev ({int(dev.sum())} tweets)"

    texts = frame["text"].to_numpy(dtype=object)
    result = classifier.train(
        texts[train_rows],
        targets[train_rows],
        weights[train_rows],
        (texts[dev_rows], dev_truth) if dev_rows.any() else None,
        config,
        seed=seed,
        callbacks=callbacks,
    )
    # Platt scaling on dev, baked into the exported model: the served probability is then a
    # frequency on this stream, and the threshold is chosen on the same calibrated scale.
    slope, intercept = (
        evaluation.fit_platt(classifier.logits(result.model, texts[dev_rows]), dev_truth)
        if dev_rows.any()
        else (1.0, 0.0)
    )
    model = classifier.with_platt_scaling(result.model, slope, intercept)
    threshold = (
        evaluation.best_threshold(dev_truth, classifier.predict(model, texts[dev_rows]))
        if dev_rows.any()
        else 0.5
    )

    test = split == "test"
    test_gold = test & (gold != ABSTAIN)
    if test_gold.any():
        test_rows, truth, evaluated_on = test_gold, gold[test_gold], "golden labels of test"
    else:
        test_rows = test
        truth = (frame["label_model_probability"].to_numpy()[test] >= 0.5).astype(int)
        evaluated_on = "label model's labels of test (no golden test labels yet)"
    scores = classifier.predict(model, texts[test_rows])
    predicted = (scores >= threshold).astype(int)
    ours = evaluation.binary_figures(truth, predicted, scores)
    calibration = evaluation.reliability(truth, scores)
    label_model = evaluation.binary_figures(
        truth, frame["label_model_probability"].to_numpy()[test_rows] >= 0.5
    )
    majority = evaluation.binary_figures(truth, frame["majority_vote"].to_numpy()[test_rows] == 1)
    comparison = pd.DataFrame(
        [
            {"model": "classifier", **ours},
            {"model": "label_model", **label_model},
            {"model": "majority_vote", **majority},
        ]
    )
    metrics = {
        **ours,
        "threshold": threshold,
        "brier_score": evaluation.brier_score(truth, scores),
        "expected_calibration_error": evaluation.expected_calibration_error(truth, scores),
        "platt_slope": slope,
        "platt_intercept": intercept,
        "label_model_f1": label_model["f1"],
        "majority_vote_f1": majority["f1"],
        "train_examples": float(result.examples),
        "train_seconds": result.train_seconds,
        "epochs": float(len(result.history.get("loss", []))),
    }
    with tempfile.TemporaryDirectory(prefix="tweet_classifier_export_") as name:
        directory = Path(name) / "model"
        card = {
            "threshold": threshold,
            "threshold_chosen_on": threshold_chosen_on,
            "evaluated_on": evaluated_on,
            "metrics": metrics,
        }
        classifier.export_saved_model(model, directory, card)
        packed = classifier.pack_directory(directory)
    served = TweetClassifier(
        saved_model=packed,
        version=version,
        threshold=threshold,
        metrics=metrics,
        params=asdict(config),
        trained_at=datetime.now(UTC).isoformat(),
    )
    return TrainedClassifier(
        served,
        metrics,
        comparison,
        evaluation.confusion(truth, predicted),
        truth,
        scores,
        result.history,
        evaluated_on,
        calibration,
        threshold_chosen_on,
    )


def _lf_columns() -> list[str]:
    return [f"lf_{f.name}" for f in LABELLING_FUNCTIONS]
