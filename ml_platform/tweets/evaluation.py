"""How good the labellers and the classifier are against golden labels, measured the same way
for all of them: precision, recall and F1 of the "about AI" class, on the same tweets.

A labeller that abstains says "not AI" here: what matters downstream is which tweets would be
retweeted, and an abstaining rule retweets nothing.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from ml_platform.tweets.labelling_functions import ABSTAIN, AI, LabellingFunction

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def binary_figures(
    truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None = None
) -> dict[str, float]:
    """precision/recall/F1 of class 1, accuracy; with `scores`, ROC AUC and average precision."""
    truth = np.asarray(truth, dtype=int)
    predicted = np.asarray(predicted, dtype=int)
    figures = {
        "precision": float(precision_score(truth, predicted, zero_division=0)),
        "recall": float(recall_score(truth, predicted, zero_division=0)),
        "f1": float(f1_score(truth, predicted, zero_division=0)),
        "accuracy": float((truth == predicted).mean()) if len(truth) else float("nan"),
        "examples": float(len(truth)),
    }
    if scores is not None and len(np.unique(truth)) == 2:
        figures["roc_auc"] = float(roc_auc_score(truth, scores))
        figures["average_precision"] = float(average_precision_score(truth, scores))
    return figures


def best_threshold(
    truth: np.ndarray,
    scores: np.ndarray,
    default: float = 0.5,
    tolerance: float = 0.01,
    floor: float = 0.5,
) -> float:
    """The probability cut with the best F1 on `truth` (the dev labels) or, of the cuts within
    `tolerance` of that F1, the highest, and never below `floor`; `default` when there are no
    positives to find.

    The scores are calibrated on dev, where about 30 % of tweets are about AI; on a real
    stream far fewer are, which moves the best cut up, never down: hence the floor at 0.5,
    the cut that is best for accuracy at dev's own share. Among cuts dev cannot tell apart
    (F1 is flat over a wide range on generated tweets) the highest costs fewest false
    positives where AI is rare.
    """
    truth = np.asarray(truth, dtype=int)
    if truth.sum() == 0 or truth.sum() == len(truth):
        return default
    candidates = np.unique(np.round(scores, 3))
    f1 = np.array([f1_score(truth, scores >= c, zero_division=0) for c in candidates])
    return max(float(candidates[f1 >= f1.max() - tolerance].max()), floor)


def confusion(truth: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    matrix = confusion_matrix(np.asarray(truth, int), np.asarray(predicted, int), labels=[0, 1])
    return pd.DataFrame(
        matrix, index=["truth: not AI", "truth: AI"], columns=["predicted: not AI", "predicted: AI"]
    )


def labeller_evaluation(
    votes: np.ndarray,
    functions: Sequence[LabellingFunction],
    label_model_probability: np.ndarray,
    majority: np.ndarray,
    gold: np.ndarray,
) -> pd.DataFrame:
    """One row per labeller on the gold-labelled tweets: each function (its own votes:
    coverage and the accuracy of what it voted, plus F1 as if it alone labelled), majority vote
    and the label model."""
    gold = np.asarray(gold, dtype=int)
    rows = []
    for column, function in enumerate(functions):
        vote = votes[:, column]
        voted = vote != ABSTAIN
        rows.append(
            {
                "labeller": function.name,
                "kind": "labelling function",
                "coverage": float(voted.mean()) if len(vote) else float("nan"),
                "vote_accuracy": float((vote[voted] == gold[voted]).mean())
                if voted.any()
                else float("nan"),
                **_scores(gold, vote == AI),
            }
        )
    for name, predicted in (
        ("majority_vote", majority == AI),
        ("label_model", label_model_probability >= 0.5),
    ):
        covered = majority != ABSTAIN if name == "majority_vote" else np.ones(len(gold), bool)
        rows.append(
            {
                "labeller": name,
                "kind": "combined",
                "coverage": float(covered.mean()) if len(gold) else float("nan"),
                "vote_accuracy": float((predicted[covered] == gold[covered]).mean())
                if covered.any()
                else float("nan"),
                **_scores(gold, predicted),
            }
        )
    return pd.DataFrame(rows)


def _scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    figures = binary_figures(gold, predicted.astype(int))
    return {k: figures[k] for k in ("precision", "recall", "f1")}


def fit_platt(logits: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the logistic regression of `truth` on the model's `logits`
    (Platt scaling); (1, 0), the identity, when `truth` holds one class only."""
    from sklearn.linear_model import LogisticRegression

    truth = np.asarray(truth, dtype=int)
    if len(np.unique(truth)) < 2:
        return 1.0, 0.0
    fitted = LogisticRegression(C=1e4).fit(np.asarray(logits).reshape(-1, 1), truth)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def brier_score(truth: np.ndarray, probability: np.ndarray) -> float:
    """Mean squared gap between P(AI) and the 0/1 truth: 0 is perfect, 0.25 says nothing."""
    truth = np.asarray(truth, dtype=float)
    return float(np.mean((np.asarray(probability, dtype=float) - truth) ** 2))


def reliability(truth: np.ndarray, probability: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """The reliability diagram as a table: per probability bin, how many tweets, their mean
    predicted P(AI) and the share that really is about AI. Calibrated means the two agree."""
    truth = np.asarray(truth, dtype=float)
    probability = np.asarray(probability, dtype=float)
    index = np.minimum((probability * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        rows.append(
            {
                "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
                "tweets": int(inside.sum()),
                "mean_predicted": float(probability[inside].mean()) if inside.any() else np.nan,
                "observed_ai_share": float(truth[inside].mean()) if inside.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(truth: np.ndarray, probability: np.ndarray) -> float:
    """|mean predicted − observed| per reliability bin, weighted by the bin's tweets."""
    table = reliability(truth, probability)
    filled = table[table["tweets"] > 0]
    gaps = (filled["mean_predicted"] - filled["observed_ai_share"]).abs()
    return float((gaps * filled["tweets"]).sum() / max(int(filled["tweets"].sum()), 1))


def reliability_figure(table: pd.DataFrame, brier: float) -> "Figure":
    """The reliability diagram: observed AI share against mean predicted P(AI) per bin, the
    diagonal being perfect calibration; bins' sizes on a second axis."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    filled = table[table["tweets"] > 0]
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    ax.plot(
        filled["mean_predicted"],
        filled["observed_ai_share"],
        marker="o",
        label=f"classifier (Brier {brier:.3f})",
    )
    counts = ax.twinx()
    counts.bar(filled["mean_predicted"], filled["tweets"], width=0.05, alpha=0.2, color="grey")
    counts.set_ylabel("tweets in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted P(AI)")
    ax.set_ylabel("observed share about AI")
    ax.set_title("Reliability on test")
    ax.legend(loc="upper left")
    return fig
