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

Every value is a bound parameter; table names are built from validated settings and quoted.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching.contract import LANDING_FEEDBACK, RECORD_META_COLUMNS, REVIEW_QUEUE
from ml_platform.entity_matching.contract import TIMESTAMP_FORMAT as FEEDBACK_TIME_FORMAT
from ml_platform.tweets.contract import TWEET_COLUMNS, TweetTables

PUBLISHED_FEEDBACK = "labelling_published_feedback"  # the rows this UI landed, and only those
TIME = sa.DateTime(timezone=True)


def quoted(warehouse: Warehouse, table: str) -> str:
    preparer = warehouse.engine().dialect.identifier_preparer
    if warehouse.db_schema:
        return f"{preparer.quote_schema(warehouse.db_schema)}.{preparer.quote(table)}"
    return preparer.quote(table)


def fetch(warehouse: Warehouse, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows as dicts, values as the driver returns them (tweet ids stay exact Python ints).
    List values bind as expanding IN parameters; datetimes as timestamps."""
    statement = sa.text(sql)
    for name, value in params.items():
        if isinstance(value, list | tuple):
            statement = statement.bindparams(sa.bindparam(name, expanding=True))
        elif isinstance(value, datetime):
            statement = statement.bindparams(sa.bindparam(name, type_=TIME))
    with warehouse.engine().connect() as conn:
        return [dict(row) for row in conn.execute(statement, params).mappings()]


def epoch_bucket(warehouse: Warehouse, column: str, seconds: int) -> str:
    """SQL for the number of the `seconds`-long bucket since 1970 that a timestamp column falls
    in, so the database groups rows and only the bucket counts travel. SQLite keeps timestamps
    as UTC text, which `strftime('%s')` reads; `seconds` is an int, never caller text."""
    seconds = int(seconds)
    if warehouse.engine().dialect.name == "sqlite":
        return f"(CAST(strftime('%s', {column}) AS INTEGER) / {seconds})"
    # date_part is double precision: EXTRACT's numeric made counting a week 1.7 times slower
    return f"FLOOR(date_part('epoch', {column}) / {seconds})"


def utc(value: Any) -> datetime | None:
    """Drivers return timestamps with (PostgreSQL) or without (SQLite, stored as UTC) an offset."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


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
    union = " UNION ".join(f"SELECT tweet_id FROM {quoted(warehouse, t)}" for t in tables)
    # every column qualified: after a classification both sides have a tweet_id, and SQLite
    # calls a bare one ambiguous
    if warehouse.table_exists(names.classified):
        sql = (
            f"SELECT t.tweet_id, c.probability FROM ({union}) t "
            f"LEFT JOIN {quoted(warehouse, names.classified)} c ON c.tweet_id = t.tweet_id "
            "ORDER BY t.tweet_id, c.model_version"
        )
    else:
        sql = f"SELECT t.tweet_id, NULL AS probability FROM ({union}) t ORDER BY t.tweet_id"
    rows = fetch(warehouse, sql)
    frame = pd.DataFrame(rows, columns=["tweet_id", "probability"])
    # a tweet classified by several model versions: the newest probability is the one to trust
    frame = frame.drop_duplicates("tweet_id", keep="last")
    return pd.DataFrame(
        {
            "item_id": frame["tweet_id"].map(str).astype("str"),
            "probability": pd.to_numeric(frame["probability"], errors="coerce").astype(float),
        }
    ).reset_index(drop=True)


def tweet(warehouse: Warehouse, names: TweetTables, tweet_id: int) -> dict[str, Any] | None:
    """One tweet with the newest classification, or None when no tweet table holds it."""
    columns = ", ".join(TWEET_COLUMNS)
    for table in tweet_tables(warehouse, names):
        rows = fetch(
            warehouse, f"SELECT {columns} FROM {quoted(warehouse, table)} WHERE tweet_id = :id",
            id=tweet_id,
        )  # fmt: skip
        if rows:
            found = rows[0]
            break
    else:
        return None
    found["probability"], found["model_version"] = None, None
    if warehouse.table_exists(names.classified):
        scored = fetch(
            warehouse,
            f"SELECT probability, model_version FROM {quoted(warehouse, names.classified)} "
            "WHERE tweet_id = :id ORDER BY model_version DESC",
            id=tweet_id,
        )
        if scored:
            found.update(scored[0])
    found["created_at"] = utc(found["created_at"])
    return found


def latest_golden_label(
    warehouse: Warehouse, names: TweetTables, tweet_id: int, annotator: str
) -> int | None:
    if not warehouse.table_exists(names.golden):
        return None
    rows = fetch(
        warehouse,
        f"SELECT label FROM {quoted(warehouse, names.golden)} "
        "WHERE tweet_id = :id AND annotator = :annotator ORDER BY labelled_at DESC LIMIT 1",
        id=tweet_id,
        annotator=annotator,
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
    rows = fetch(
        warehouse,
        "SELECT source_id, target_id, probability, partition_key AS batch "
        f"FROM {quoted(warehouse, REVIEW_QUEUE)} ORDER BY partition_key",
    )
    frame = pd.DataFrame(rows, columns=list(empty.columns))
    return frame.drop_duplicates(["source_id", "target_id"], keep="last").reset_index(drop=True)


def review_pair(warehouse: Warehouse, source_id: str, target_id: str) -> dict[str, Any] | None:
    if not warehouse.table_exists(REVIEW_QUEUE):
        return None
    rows = fetch(
        warehouse,
        f"SELECT * FROM {quoted(warehouse, REVIEW_QUEUE)} "
        "WHERE source_id = :source AND target_id = :target ORDER BY partition_key DESC",
        source=source_id,
        target=target_id,
    )
    return rows[0] if rows else None


def record(warehouse: Warehouse, table: str, record_id: str) -> dict[str, Any] | None:
    """The newest imported version of a source or target record, without bookkeeping columns."""
    if not warehouse.table_exists(table):
        return None
    order = " ORDER BY partition_key DESC" if _has_partitions(warehouse, table) else ""
    rows = fetch(
        warehouse, f"SELECT * FROM {quoted(warehouse, table)} WHERE id = :id{order}", id=record_id
    )
    if not rows:
        return None
    return {k: v for k, v in rows[0].items() if k not in RECORD_META_COLUMNS}


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
    rows = fetch(
        warehouse,
        f"SELECT label, modified_at FROM {quoted(warehouse, table)} "
        "WHERE source_id = :source AND target_id = :target ORDER BY modified_at DESC LIMIT 1",
        source=source_id,
        target=target_id,
    )
    if not rows:
        return None
    label = rows[0]["label"]
    return LandedFeedback(
        None if label is None or pd.isna(label) else int(label), str(rows[0]["modified_at"])
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


def _has_partitions(warehouse: Warehouse, table: str) -> bool:
    columns = sa.inspect(warehouse.engine()).get_columns(table, schema=warehouse.db_schema)
    return any(c["name"] == "partition_key" for c in columns)
