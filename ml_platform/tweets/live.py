"""Live classification of the stream: each step takes only what the previous one added.

`classify_new` scores the raw tweets that have no row in `classified_tweets` yet, `store_ai_tweets`
copies the newly classified AI tweets, `store_urls` extracts the links of AI tweets not yet
extracted. A classification is never redone: a new model applies to tweets that arrive after it
(and to a backlog no model has seen), never re-scores what an older model already decided, so
`classified_tweets.model_version` says which model made each decision. All three are
insert-if-new by tweet id, so a replayed or overlapping run changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from ml_platform.core.warehouse import Absent, Compare, Join, Select, Warehouse
from ml_platform.tweets import tables, urls
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.tables import (
    AI_COLUMNS,
    CLASSIFIED_COLUMNS,
    URL_COLUMNS,
)

Predict = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class StepReport:
    considered: int  # rows the step looked at (new since its last run)
    stored: int  # rows it added


def classify_new(
    warehouse: Warehouse,
    tweet_tables: TweetTables,
    predict: Predict,
    model_version: int,
    threshold: float,
    batch_size: int = 20_000,
) -> StepReport:
    """Score raw tweets not classified yet, `batch_size` at a time (bounded memory)."""
    considered = stored = 0
    while True:
        new = tables.rows_missing_from(
            warehouse, tweet_tables.raw, tweet_tables.classified, limit=batch_size
        )
        if new.empty:
            return StepReport(considered, stored)
        probability = predict(new["text"].tolist())
        rows = pd.DataFrame(
            {
                "tweet_id": new["tweet_id"].to_numpy(),
                "probability": probability,
                "is_ai": probability >= threshold,
                "model_version": model_version,
                "classified_at": datetime.now(UTC),
            }
        )
        added = tables.insert_new_rows(
            warehouse, tweet_tables.classified, rows, CLASSIFIED_COLUMNS, ("tweet_id",)
        )
        considered += len(new)
        stored += added
        if len(new) < batch_size:
            return StepReport(considered, stored)


def store_ai_tweets(warehouse: Warehouse, tweet_tables: TweetTables) -> StepReport:
    """Copy classified AI tweets not in `ai_tweets` yet, with their text and probability."""
    if not warehouse.table_exists(tweet_tables.classified):
        return StepReport(0, 0)
    tweet = Join(
        tweet_tables.raw,
        on=("tweet_id",),
        columns=("created_at", "user_screen_name", "text", "lang", "entity_urls"),
    )
    new = warehouse.frame(
        Select(
            tweet_tables.classified,
            ("tweet_id", "probability", "model_version", "classified_at"),
            where=(Compare("is_ai", "==", True), Absent("tweet_id", tweet_tables.ai)),
            join=tweet,
        )
    )
    if new.empty:
        return StepReport(0, 0)
    added = tables.insert_new_rows(warehouse, tweet_tables.ai, new, AI_COLUMNS, ("tweet_id",))
    return StepReport(len(new), added)


def store_urls(warehouse: Warehouse, tweet_tables: TweetTables) -> StepReport:
    """Links of AI tweets whose links were not extracted yet.

    An AI tweet without links leaves no row, so it is looked at again on later runs; extraction
    is a regex over a few hundred characters, far cheaper than a bookkeeping table.
    """
    new = tables.rows_missing_from(warehouse, tweet_tables.ai, tweet_tables.urls)
    if new.empty:
        return StepReport(0, 0)
    found = urls.extract_urls(new)
    added = tables.insert_new_rows(
        warehouse, tweet_tables.urls, found, URL_COLUMNS, ("tweet_id", "url")
    )
    return StepReport(len(new), added)
