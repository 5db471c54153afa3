"""From pair probabilities to decisions: matches, the review queue, and how good they are."""

import numpy as np
import pandas as pd


def select_matches(
    scores: pd.DataFrame, *, threshold: float = 0.5, one_to_one: bool = False
) -> pd.DataFrame:
    """The best target per source with a probability at or above ``threshold``.

    One-to-one also gives each target at most one source, taking pairs greedily by score (the
    classic approximation of the assignment problem; exact for the usual case of clear winners).
    """
    above = scores[scores["probability"] >= threshold]
    ranked = above.sort_values(
        ["probability", "source_id", "target_id"], ascending=[False, True, True]
    )
    best = _greedy_one_to_one(ranked) if one_to_one else ranked.drop_duplicates("source_id")
    return best.reset_index(drop=True)


def _greedy_one_to_one(ranked: pd.DataFrame) -> pd.DataFrame:
    """Walk pairs by falling score; keep a pair when neither side is taken yet."""
    taken_s: set[str] = set()
    taken_t: set[str] = set()
    keep = np.zeros(len(ranked), dtype=bool)
    for i, (s, t) in enumerate(zip(ranked["source_id"].to_numpy(), ranked["target_id"].to_numpy())):
        if s not in taken_s and t not in taken_t:
            keep[i] = True
            taken_s.add(s)
            taken_t.add(t)
    return ranked[keep]


def review_queue(
    scores: pd.DataFrame, *, size: int = 100, low: float = 0.05, high: float = 0.95
) -> pd.DataFrame:
    """Pairs the model is least sure of (probability closest to 0.5), for people to label.

    Only each source's best candidates are considered: a label there changes a decision.
    """
    best = scores.sort_values("probability", ascending=False).groupby("source_id").head(2)
    unsure = best[(best["probability"] > low) & (best["probability"] < high)]
    order = (unsure["probability"] - 0.5).abs().sort_values(kind="stable").index
    return unsure.loc[order].head(size).reset_index(drop=True)


def evaluate(matches: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Precision, recall and F1 of matches against the true (source_id, target_id) pairs."""
    hits = len(matches.merge(truth, on=["source_id", "target_id"], how="inner"))
    precision = hits / len(matches) if len(matches) else 0.0
    recall = hits / len(truth) if len(truth) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": hits,
        "false_positives": len(matches) - hits,
        "false_negatives": len(truth) - hits,
    }
