"""Train the match model on candidate-pair features and feedback, and measure it honestly.

A share of the reviewed pairs (chosen by a hash of the pair, so the split is stable across
retrains) never reaches training; precision and recall on them are what the quality floors
check. With no feedback yet there is nothing to measure against, which the result says.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml_platform.entity_matching import model


@dataclass
class TrainedMatcher:
    """The fitted Pipeline with what is known about its quality, stored together as one artifact."""

    pipeline: Pipeline
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)

    def probabilities(self, features: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict_proba(features)[:, 1]


def is_held_out(pairs: pd.DataFrame, share: float) -> np.ndarray:
    """Stable pseudo-random split of pairs: the same pair is held out in every retrain."""
    hashes = pd.util.hash_pandas_object(pairs[["source_id", "target_id"]], index=False)
    return (hashes.to_numpy() % 1000) < round(share * 1000)


def train_matcher(
    features: pd.DataFrame,
    feedback: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    comparison_groups: Mapping[str, list[str]] | None = None,
    previous: TrainedMatcher | None = None,
    threshold: float = 0.5,
    holdout_share: float = 0.2,
    max_pairs: int = 2_000_000,
    seed: int = 42,
) -> TrainedMatcher:
    """Fit (warm-started from ``previous`` when its columns match) and evaluate on held-out labels."""
    held_out_feedback = (
        feedback[is_held_out(feedback, holdout_share)] if len(feedback) else feedback
    )
    training_feedback = feedback.drop(held_out_feedback.index) if len(feedback) else feedback

    held_out_rows = held_out_feedback.merge(features, on=["source_id", "target_id"], how="inner")
    labels = model.training_labels(features, training_feedback)
    labelled = ~np.isnan(labels)
    if len(features) > max_pairs:  # EM needs a representative sample, not every pair
        keep = np.random.default_rng(seed).random(len(features)) < max_pairs / len(features)
        keep |= labelled
        features, labels = features[keep], labels[keep]

    pipeline = model.build_model(columns, comparison_groups)
    warm = (
        previous is not None
        and previous.pipeline.named_steps["levels"].get_params()
        == pipeline.named_steps["levels"].get_params()
    )
    if warm:
        pipeline = previous.pipeline
        pipeline.set_params(classifier__warm_start=True)
    pipeline.fit(features, labels)

    metrics: dict[str, float] = {
        "training_pairs": float(len(features)),
        "training_labels": float((~np.isnan(labels)).sum()),
        "match_prior": float(pipeline.named_steps["classifier"].prior_),
        "em_iterations": float(pipeline.named_steps["classifier"].n_iter_),
    }
    metrics.update(_held_out_quality(pipeline, held_out_rows, threshold))
    params = {
        "threshold": threshold,
        "holdout_share": holdout_share,
        "warm_start": warm,
        "columns": dict(columns),
        "comparison_groups": dict(comparison_groups or {}),
    }
    return TrainedMatcher(pipeline=pipeline, metrics=metrics, params=params)


def _held_out_quality(pipeline: Pipeline, rows: pd.DataFrame, threshold: float) -> dict[str, float]:
    if rows.empty:
        return {"held_out_labels": 0.0}
    predicted = pipeline.predict_proba(rows)[:, 1] >= threshold
    actual = rows["label"].to_numpy() == 1
    tp = float((predicted & actual).sum())
    precision = float(tp / predicted.sum()) if predicted.sum() else 1.0
    recall = float(tp / actual.sum()) if actual.sum() else 1.0
    return {
        "held_out_labels": float(len(rows)),
        "held_out_precision": precision,
        "held_out_recall": recall,
    }
