"""The tweet product's published contract (`tweets.contract`) is what its own code writes: the
tables labelling and serving read exist under the contract's names with at least its columns,
after the product's stream, classification and golden steps ran on generated tweets (SQLite)."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from upath import UPath

from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import contract, golden, live, stream, tables


def test_the_contracts_columns_are_the_product_tables_columns():
    assert contract.CLASSIFIED_COLUMNS == tuple(tables.CLASSIFIED_COLUMNS)
    assert contract.AI_COLUMNS == tuple(tables.AI_COLUMNS)
    assert contract.URL_COLUMNS == tuple(tables.URL_COLUMNS)
    assert contract.GOLDEN_COLUMNS == tuple(tables.GOLDEN_COLUMNS)
    assert (
        set(contract.TWEET_COLUMNS) <= set(tables.SPLIT_COLUMNS) <= set(tables.DEDUPLICATED_COLUMNS)
    )


def _predict(texts: list[str]) -> np.ndarray:
    """A fixed rule in the classifier's place: the contract is about tables, not the model."""
    return np.array([0.9 if "AI" in text or "model" in text else 0.1 for text in texts])


def _columns(warehouse, table: str) -> set[str]:
    return set(warehouse.read_table(table).columns)


def test_the_tables_labelling_reads_are_written_as_the_contract_says(tmp_path, sqlite_warehouse):
    names = contract.TweetTables(prefix="contract_", version=3)
    landing = tmp_path / "landing"
    write_tweet_stream(landing, generate_tweet_stream(300, seed=5), truth_path=tmp_path / "t.csv")
    source = stream.LandingSource(UPath(landing), sqlite_warehouse, names)
    assert stream.ingest(source, sqlite_warehouse, names, 1000).stored > 0

    assert live.classify_new(sqlite_warehouse, names, _predict, 1, 0.5).stored > 0
    assert live.store_ai_tweets(sqlite_warehouse, names).stored > 0
    assert live.store_urls(sqlite_warehouse, names).stored > 0
    raw = sqlite_warehouse.read_table(names.raw)
    labels = pd.DataFrame(
        {
            "tweet_id": raw["tweet_id"].head(3),
            "label": [1, 0, 1],
            "annotator": "ann",
            "labelled_at": datetime(2026, 12, 4, tzinfo=UTC),
            "source": "ui",
            "note": None,
        }
    )
    assert golden.store(sqlite_warehouse, names.golden, labels) == 3

    assert set(contract.TWEET_COLUMNS) <= _columns(sqlite_warehouse, names.raw)
    assert _columns(sqlite_warehouse, names.classified) == set(contract.CLASSIFIED_COLUMNS)
    assert _columns(sqlite_warehouse, names.ai) == set(contract.AI_COLUMNS)
    assert _columns(sqlite_warehouse, names.urls) == set(contract.URL_COLUMNS)
    assert _columns(sqlite_warehouse, names.golden) == set(contract.GOLDEN_COLUMNS)
    assert names.golden == "contract_golden_labels" and names.ai == "contract_ai_tweets_3"
