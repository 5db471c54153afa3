"""The warehouse tables of the products whose items people label, read and written here by their
published contracts (`tweets.contract`, `entity_matching.contract`): table names, columns and the
feedback time format come from the products themselves, so a rename there cannot leave the
labelling app reading stale tables.

- Tweets (`ml_platform/tweets/tables.py`, `golden.py`): tweets to label come from the test and
  dev split tables `<prefix>{test,dev}_dataset_<version>` (the golden set judges the labeller
  and the classifier on them), falling back to `<prefix>deduplicated_tweet_dataset_<version>`;
  the model's probabilities from `<prefix>classified_tweets_<version>`; labels go to
  `<prefix>golden_labels` (tweet_id, label, annotator, labelled_at, source, note), one row per
  judgement, a correction being a newer row by the same annotator. The dashboard reads
  `<prefix>ai_tweets_<version>` and `<prefix>tweet_urls_<version>` (each link row carrying its
  tweet's `created_at`), and adds indexes by time to them (`dashboard.dashboard_indexes`).
- Entity matching (`ml_platform/entity_matching/batches.py`, `assets.py`): pairs come from
  `em_review_queue` (source_id, target_id, probability, explanation; a partition per batch), the
  records from `em_sources` / `em_targets`, each pair's explanation from the queue; labels land in
  `em_landing_feedback` (source_id, target_id, label 1/0, modified_at as UTC text), which
  `em_feedback_sensor` counts to request a retrain and `em_feedback` imports. A label people
  took back (an undo) lands as a **withdrawal**: the same pair with label NULL and a newer
  modified_at. The importer must treat it as the pair's latest row like any other (the latest
  modified_at wins), so the pair ends up with no label: training sees it as unlabelled. The UI
  keeps its own copy of every row it lands (`labelling_published_feedback`) and withdraws only
  a label that is both its own and the pair's latest.

Every query is a `core.warehouse.Select`: values are bound parameters, names are quoted there.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ml_platform.core.warehouse import AnyOf, Compare, OneOf, Select, Warehouse
from ml_platform.entity_matching.contract import LANDING_FEEDBACK, RECORD_META_COLUMNS, REVIEW_QUEUE
from ml_platform.entity_matching.contract import TIMESTAMP_FORMAT as FEEDBACK_TIME_FORMAT
from ml_platform.tweets.contract import TWEET_COLUMNS, TweetTables

PUBLISHED_FEEDBACK = "labelling_published_feedback"  # the rows this UI landed, and only those


def _first(warehouse: Warehouse, select: Select) -> dict[str, Any] | None:
    found = warehouse.rows(replace(select, limit=1))
    return found[0] if found else None


# tweets ---------------------------------------------------------------------------------------


def tweet_tables(warehouse: Warehouse, names: TweetTables) -> list[str]:
    """Where tweets to label live: the test and dev tables, else the deduplicated table."""
    splits = [t for t in (names.split("test"), names.split("dev")) if warehouse.table_exists(t)]
    if splits:
        return splits
    return [names.deduplicated] if warehouse.table_exists(names.deduplicated) else []


def tweet_candidates(warehouse: Warehouse, names: TweetTables) -> pd.DataFrame:
    """Every tweet to label with the model's probability (NaN before the first classification):
    `item_id`, `probability`."""
    tables = tweet_tables(warehouse, names)
    if not tables:
        return pd.DataFrame({"item_id": pd.Series(dtype="str"), "probability": []})
    ids = [Select(t, ("tweet_id",)) for t in tables]
    frame = pd.concat([warehouse.frame(select) for select in ids]).drop_duplicates("tweet_id")
    frame = frame.sort_values("tweet_id", ignore_index=True)
    if warehouse.table_exists(names.classified):
        listed = AnyOf(tuple(OneOf("tweet_id", select) for select in ids))
        scored = warehouse.frame(
            Select(
                names.classified,
                ("tweet_id", "probability", "model_version"),
                where=(listed,),
                order_by=("tweet_id", "model_version"),
            )
        )
        # a tweet classified by several model versions: the newest probability is the one to trust
        newest = scored.drop_duplicates("tweet_id", keep="last")[["tweet_id", "probability"]]
        frame = frame.merge(newest, on="tweet_id", how="left")
    else:
        frame = frame.assign(probability=float("nan"))
    return pd.DataFrame(
        {
            "item_id": frame["tweet_id"].map(str).astype("str"),
            "probability": pd.to_numeric(frame["probability"], errors="coerce").astype(float),
        }
    ).reset_index(drop=True)


def tweet(warehouse: Warehouse, names: TweetTables, tweet_id: int) -> dict[str, Any] | None:
    """One tweet with the newest classification, or None when no tweet table holds it."""
    this = (Compare("tweet_id", "==", tweet_id),)
    for table in tweet_tables(warehouse, names):
        found = _first(warehouse, Select(table, TWEET_COLUMNS, this))
        if found:
            break
    else:
        return None
    found["probability"], found["model_version"] = None, None
    if warehouse.table_exists(names.classified):
        newest = Select(
            names.classified, ("probability", "model_version"), this, order_by=("-model_version",)
        )
        found.update(_first(warehouse, newest) or {})
    return found


def latest_golden_label(
    warehouse: Warehouse, names: TweetTables, tweet_id: int, annotator: str
) -> int | None:
    if not warehouse.table_exists(names.golden):
        return None
    rows = warehouse.rows(
        Select(
            names.golden,
            ("label",),
            (Compare("tweet_id", "==", tweet_id), Compare("annotator", "==", annotator)),
            order_by=("-labelled_at",),
            limit=1,
        )
    )
    """The annotator's label as last written (None: never written, or withdrawn)."""
    label = rows[0]["label"] if rows else None
    return None if label is None or pd.isna(label) else int(label)


def add_golden_label(
    warehouse: Warehouse,
    names: TweetTables,
    tweet_id: int,
    label: int | None,
    annotator: str,
    note: str | None,
    at: datetime,
) -> None:
    row = pd.DataFrame(
        {
            "tweet_id": pd.Series([tweet_id], dtype="int64"),
            "label": pd.Series([label], dtype="Int64"),  # None withdraws the label
            "annotator": pd.Series([annotator], dtype="str"),
            "labelled_at": pd.Series([at], dtype="datetime64[us, UTC]"),
            "source": pd.Series(["ui"], dtype="str"),
            "note": pd.Series([note], dtype="str" if note is not None else "object"),
        }
    )
    warehouse.append_rows(names.golden, row)


# entity-matching pairs ------------------------------------------------------------------------


def review_pairs(warehouse: Warehouse) -> pd.DataFrame:
    """Pairs of every batch's review queue (newest batch per pair): `source_id`, `target_id`,
    `probability`, `batch`."""
    empty = pd.DataFrame(columns=["source_id", "target_id", "probability", "batch"])
    if not warehouse.table_exists(REVIEW_QUEUE):
        return empty
    columns = ("source_id", "target_id", "probability", "partition_key")
    rows = warehouse.rows(Select(REVIEW_QUEUE, columns, order_by=("partition_key",)))
    frame = pd.DataFrame(rows, columns=list(columns)).rename(columns={"partition_key": "batch"})
    return frame.drop_duplicates(["source_id", "target_id"], keep="last").reset_index(drop=True)


def review_pair(warehouse: Warehouse, source_id: str, target_id: str) -> dict[str, Any] | None:
    if not warehouse.table_exists(REVIEW_QUEUE):
        return None
    pair = (Compare("source_id", "==", source_id), Compare("target_id", "==", target_id))
    return _first(warehouse, Select(REVIEW_QUEUE, where=pair, order_by=("-partition_key",)))


def record(warehouse: Warehouse, table: str, record_id: str) -> dict[str, Any] | None:
    """The newest imported version of a source or target record, without bookkeeping columns."""
    if not warehouse.table_exists(table):
        return None
    newest = ("-partition_key",) if "partition_key" in warehouse.column_names(table) else ()
    found = _first(
        warehouse, Select(table, where=(Compare("id", "==", record_id),), order_by=newest)
    )
    if found is None:
        return None
    return {k: v for k, v in found.items() if k not in RECORD_META_COLUMNS}


@dataclass(frozen=True)
class LandedFeedback:
    label: int | None  # None: withdrawn
    modified_at: str


def latest_feedback(
    warehouse: Warehouse, source_id: str, target_id: str, *, ours: bool = False
) -> LandedFeedback | None:
    """The pair's latest row in `em_landing_feedback` — or with `ours`, the latest this UI
    landed (`PUBLISHED_FEEDBACK`); None when there is none."""
    table = PUBLISHED_FEEDBACK if ours else LANDING_FEEDBACK
    if not warehouse.table_exists(table):
        return None
    pair = (Compare("source_id", "==", source_id), Compare("target_id", "==", target_id))
    found = _first(
        warehouse, Select(table, ("label", "modified_at"), pair, order_by=("-modified_at",))
    )
    if found is None:
        return None
    label = found["label"]
    return LandedFeedback(
        None if label is None or pd.isna(label) else int(label), str(found["modified_at"])
    )


def add_feedback(
    warehouse: Warehouse, source_id: str, target_id: str, label: int | None, at: datetime
) -> None:
    """Land a pair's label, or with `label=None` a withdrawal: a row whose label is NULL and
    whose `modified_at` is newer than the label it takes back (see the module docstring). The
    same row then goes to this UI's own record (after: a crash in between leaves a label the
    UI will not withdraw, never one it withdraws wrongly)."""
    row = pd.DataFrame(
        {
            "source_id": pd.Series([source_id], dtype="str"),
            "target_id": pd.Series([target_id], dtype="str"),
            "label": pd.Series([label], dtype="Int64"),  # None withdraws the label
            "modified_at": pd.Series(
                [at.astimezone(UTC).strftime(FEEDBACK_TIME_FORMAT)], dtype="str"
            ),
        }
    )
    warehouse.append_rows(LANDING_FEEDBACK, row)
    warehouse.append_rows(PUBLISHED_FEEDBACK, row)
