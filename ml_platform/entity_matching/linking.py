"""Link two record sets in one process: the CLI's and the benchmark's path through the same logic
the Dagster assets run step by step."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
from sklearn.pipeline import Pipeline

from ml_platform.entity_matching import blocking, features, matching, model
from ml_platform.entity_matching.schema import RecordSchema


@dataclass
class LinkResult:
    matches: pd.DataFrame
    scores: pd.DataFrame
    features: pd.DataFrame
    blocking: blocking.BlockingStats
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall seconds of a stage under its name (run reports print them)."""
    start = time.perf_counter()
    yield
    seconds[stage] = time.perf_counter() - start


def score_pairs(
    pairs: pd.DataFrame,
    left: pd.DataFrame,
    right: pd.DataFrame,
    schema: RecordSchema,
    feedback: pd.DataFrame | None,
    seconds: dict[str, float],
) -> tuple[pd.DataFrame, pd.DataFrame, Pipeline]:
    """Compare the blocked pairs, fit the model on them (with feedback if given) and score them:
    the steps link and dedupe share, so the two modes cannot drift apart. Returns the feature
    table, the scores (source_id, target_id, probability) and the fitted model."""
    if feedback is not None and not feedback.empty:
        # reviewed pairs are compared even when blocking missed them: they are the labels
        pairs = pd.concat(
            [pairs, feedback[["source_id", "target_id"]].astype("string")], ignore_index=True
        ).drop_duplicates(ignore_index=True)
    with timed(seconds, "features"):
        table = features.compare(pairs, left, right, schema.columns)
    with timed(seconds, "training"):
        match_model = model.build_model(schema.columns, schema.comparison_groups)
        match_model.fit(table, model.training_labels(table, feedback))
    with timed(seconds, "scoring"):
        scores = table[["source_id", "target_id"]].assign(
            probability=match_model.predict_proba(table)[:, 1]
        )
    return table, scores, match_model


def link(
    sources: pd.DataFrame,
    targets: pd.DataFrame,
    schema: RecordSchema,
    *,
    feedback: pd.DataFrame | None = None,
    threshold: float = 0.5,
    one_to_one: bool = False,
    max_block_pairs: int = 400,
) -> LinkResult:
    """Block, compare, fit the model (with feedback if given), score and pick matches."""
    seconds: dict[str, float] = {}
    columns = schema.columns
    rules = blocking.rules_from_schema(columns, schema.blocking)
    with timed(seconds, "blocking"):
        pairs, stats = blocking.candidate_pairs(
            blocking.block_keys(sources, rules),
            blocking.block_keys(targets, rules),
            rules,
            max_block_pairs=max_block_pairs,
        )
    table, scores, match_model = score_pairs(pairs, sources, targets, schema, feedback, seconds)
    with timed(seconds, "matching"):
        chosen = matching.select_matches(scores, threshold=threshold, one_to_one=one_to_one)
        chosen_features = chosen[["source_id", "target_id"]].merge(
            table, on=["source_id", "target_id"], how="left"
        )
        chosen = chosen.assign(explanation=model.explain(match_model, chosen_features).to_numpy())
    return LinkResult(
        matches=chosen, scores=scores, features=table, blocking=stats, seconds=seconds
    )
