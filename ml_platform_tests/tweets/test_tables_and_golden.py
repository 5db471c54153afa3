"""Idempotent writes keyed by tweet id, versioned names, and the golden-label contract, on both
warehouse backends."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.tweets import golden, tables
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.tables import RAW_COLUMNS

BIG_ID = 2**63 - 7  # snowflake ids exceed what a float64 holds exactly


def raw_rows(ids: list[int], retweeted: list[int | None]) -> pd.DataFrame:
    now = pd.Timestamp("2026-03-02 10:00", tz="UTC")
    return pd.DataFrame(
        {
            "tweet_id": pd.array(ids, dtype="int64"),
            "created_at": now,
            "text": [f"tweet {i}" for i in ids],
            "lang": "en",
            "user_screen_name": "ana",
            "entity_urls": "",
            "retweeted_id": pd.array(retweeted, dtype="Int64"),
            "source_format": "v2",
            "source": "f.jsonl",
            "arrived_at": now,
            "stored_at": now,
        }
    )


def test_writing_the_same_tweets_again_stores_each_once(warehouse):
    first = raw_rows([1, 2, 3], [None, None, 1])
    assert tables.insert_new_rows(warehouse, "raw", first, RAW_COLUMNS, ("tweet_id",)) == 3
    replay = raw_rows([2, 3, 4, 4], [None, 1, None, None])
    assert tables.insert_new_rows(warehouse, "raw", replay, RAW_COLUMNS, ("tweet_id",)) == 1
    stored = tables.read_rows(warehouse, "raw")
    assert sorted(stored["tweet_id"]) == [1, 2, 3, 4]


def test_tweet_ids_near_the_int64_limit_survive_with_missing_retweet_ids(warehouse):
    rows = raw_rows([BIG_ID, BIG_ID - 1], [None, BIG_ID])
    tables.insert_new_rows(warehouse, "raw", rows, RAW_COLUMNS, ("tweet_id",))
    stored = tables.read_rows(warehouse, "raw").sort_values("tweet_id", ignore_index=True)
    assert stored["tweet_id"].tolist() == [BIG_ID - 1, BIG_ID]
    assert stored["retweeted_id"].tolist() == [BIG_ID, pd.NA]
    assert str(stored["created_at"].dt.tz) == "UTC"


def test_table_names_follow_prefix_and_version():
    names = TweetTables(prefix="acme_", version=3)
    assert names.raw == "acme_raw_tweet_dataset_3"
    assert [names.split(s) for s in ("test", "dev", "snorkel_train", "train")] == [
        "acme_test_dataset_3", "acme_dev_dataset_3", "acme_snorkel_train_dataset_3",
        "acme_train_dataset_3",
    ]  # fmt: skip
    assert names.golden == "acme_golden_labels"  # people's labels outlive dataset versions
    assert TweetTables().raw == "raw_tweet_dataset_0"
    with pytest.raises(InvalidInputError, match="prefix is 'Acme-'"):
        TweetTables(prefix="Acme-")


def test_golden_csv_imports_once_and_names_bad_rows(tmp_path, warehouse):
    path = tmp_path / "labels.csv"
    path.write_text("tweet_id,label,annotator\n11,ai,ana\n12,0,ana\n11,not_ai,ben\n")
    labels = golden.load_golden_csv(path)
    assert golden.store(warehouse, "golden_labels", labels) == 3
    assert golden.store(warehouse, "golden_labels", golden.load_golden_csv(path)) == 0
    stored = golden.read(warehouse, "golden_labels")
    assert set(stored["source"]) == {"csv:labels.csv"}

    bad = tmp_path / "bad.csv"
    bad.write_text("tweet_id,label\n11,1\n12,maybe\n")
    with pytest.raises(InvalidInputError, match="bad.csv: line 3: column 'label' is 'maybe'"):
        golden.load_golden_csv(bad)
    with pytest.raises(InvalidInputError, match="missing column"):
        (tmp_path / "nolabel.csv").write_text("tweet_id\n1\n")
        golden.load_golden_csv(tmp_path / "nolabel.csv")


def test_resolution_takes_each_annotators_latest_then_the_majority_then_the_newest():
    at = pd.Timestamp("2026-03-01", tz="UTC")
    judgements = pd.DataFrame(
        [
            (1, 1, "ana", at), (1, 0, "ana", at + pd.Timedelta("1h")),  # ana corrected herself
            (1, 0, "ben", at), (1, 1, "chen", at),  # 2 of 3 say not AI
            (2, 1, "ana", at), (2, 0, "ben", at + pd.Timedelta("2h")),  # tie: newest wins
        ],
        columns=["tweet_id", "label", "annotator", "labelled_at"],
    )  # fmt: skip
    resolved = golden.resolve(judgements).set_index("tweet_id")
    assert resolved["label"].to_dict() == {1: 0, 2: 0}
    assert resolved.loc[1, "annotators"] == 3
    assert resolved.loc[1, "agreement"] == pytest.approx(2 / 3)
