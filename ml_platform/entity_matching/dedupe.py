"""Deduplicate one record table in one process: the CLI's and the benchmark's path.

The same blocking rules, comparisons and match model as linking; only the pairs differ (a
self-join without self or repeated pairs) and the decision is a clustering instead of a best
target per source.
"""

from dataclasses import dataclass, field

import pandas as pd

from ml_platform.entity_matching import blocking, clustering
from ml_platform.entity_matching.linking import score_pairs, timed
from ml_platform.entity_matching.schema import RecordSchema


@dataclass
class DedupeResult:
    clusters: pd.DataFrame  # record_id, cluster_id, cluster_confidence: every record
    scores: pd.DataFrame  # source_id < target_id, probability: every candidate pair
    blocking: blocking.BlockingStats
    seconds: dict[str, float] = field(default_factory=dict)


def canonical_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the smaller id first: in one table (a, b) and (b, a) are the same question."""
    a, b = pairs["source_id"].astype("string"), pairs["target_id"].astype("string")
    swap = (a > b).to_numpy()
    out = pairs.copy()
    out["source_id"] = a.where(~swap, b)
    out["target_id"] = b.where(~swap, a)
    return out[out["source_id"] != out["target_id"]]


def sort_order(records: pd.DataFrame, schema: RecordSchema) -> pd.Series:
    """Each record's values in schema order as one string: the order inside oversized blocks."""
    joined = pd.Series("", index=records.index, dtype="string")
    for column in schema.columns:
        joined = joined + " " + records[column].astype("string").fillna("")
    return pd.Series(joined.str.lower().to_numpy(), index=records["id"].to_numpy())


def dedupe(
    records: pd.DataFrame,
    schema: RecordSchema,
    *,
    feedback: pd.DataFrame | None = None,
    threshold: float = 0.5,
    max_block_pairs: int = 400,
    window: int = 10,
) -> DedupeResult:
    """Block (self-join), compare, fit the model (with feedback if given), score, cluster."""
    seconds: dict[str, float] = {}
    columns = schema.columns
    rules = blocking.rules_from_schema(columns, schema.blocking)
    if feedback is not None and not feedback.empty:
        feedback = canonical_pairs(feedback).drop_duplicates(
            ["source_id", "target_id"], keep="last"
        )
    with timed(seconds, "blocking"):
        pairs, stats = blocking.self_pairs(
            blocking.block_keys(records, rules),
            rules,
            sort_order(records, schema),
            max_block_pairs=max_block_pairs,
            window=window,
        )
    _, scores, _ = score_pairs(pairs, records, records, schema, feedback, seconds)
    with timed(seconds, "clustering"):
        clusters = clustering.cluster_records(records["id"], scores, threshold=threshold)
    return DedupeResult(clusters=clusters, scores=scores, blocking=stats, seconds=seconds)
