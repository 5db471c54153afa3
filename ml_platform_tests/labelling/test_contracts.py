"""The labelling app reads and writes other products' tables by their contracts: these tests fail
when a product changes what its readers accept."""

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.entity_matching import assets as em_assets
from ml_platform.entity_matching import batches as em_batches
from ml_platform.entity_matching import model as em_model
from ml_platform.labelling import dashboard, sources
from ml_platform.labelling.settings import parse_tokens
from ml_platform.tweets import golden
from ml_platform.tweets.contract import TweetTables
from ml_platform_tests.labelling import data


def test_golden_rows_written_here_are_read_and_resolved_by_the_tweet_product(warehouse):
    names = TweetTables()
    at = datetime(2026, 11, 2, tzinfo=UTC)
    tweet_id = data.FIRST_TWEET_ID + 7
    sources.add_golden_label(warehouse, names, tweet_id, 1, "ann", "a note", at)
    sources.add_golden_label(warehouse, names, tweet_id, 0, "ann", None, at.replace(hour=1))
    assert golden.store(warehouse, names.golden, golden.read(warehouse, names.golden)) == 0
    resolved = golden.resolve(golden.read(warehouse, names.golden))
    assert resolved[["tweet_id", "label"]].values.tolist() == [[tweet_id, 0]]
    assert sources.latest_golden_label(warehouse, names, tweet_id, "ann") == 0


def test_a_withdrawn_golden_label_no_longer_counts_for_the_tweet_product(warehouse):
    names = TweetTables()
    at = datetime(2026, 11, 2, tzinfo=UTC)
    first, second = data.FIRST_TWEET_ID + 1, data.FIRST_TWEET_ID + 2
    sources.add_golden_label(warehouse, names, first, 1, "ann", None, at)
    sources.add_golden_label(warehouse, names, second, 0, "ann", None, at)
    sources.add_golden_label(warehouse, names, second, 1, "bob", None, at)
    sources.add_golden_label(warehouse, names, first, None, "ann", None, at.replace(hour=1))
    sources.add_golden_label(warehouse, names, second, None, "bob", None, at.replace(hour=1))

    resolved = golden.resolve(golden.read(warehouse, names.golden))

    assert resolved[["tweet_id", "label", "annotators"]].values.tolist() == [[second, 0, 1]]
    assert sources.latest_golden_label(warehouse, names, first, "ann") is None


def test_the_dashboard_reads_the_tweet_products_tables_on_both_backends(warehouse):
    frame = data.tweets(40)
    names = data.land_tweets(warehouse, frame)
    board = dashboard.load(warehouse, TweetTables(), min_probability=0.8, since=None, until=None)
    expected = frame[frame["probability"] >= 0.8]
    assert board.total == len(expected) == int(board.hourly.sum())
    assert [t["tweet_id"] for t in board.tweets][:3] == expected.sort_values(
        "created_at", ascending=False
    )["tweet_id"].head(3).tolist()
    # the default window: the 24 hours up to the newest AI tweet, whatever the floor
    newest = frame.loc[frame["probability"] >= 0.5, "created_at"].max()
    assert board.until == newest and board.since == newest - pd.Timedelta(hours=24)
    domains = dict(board.domains)
    assert sum(domains.values()) == len(expected) and set(domains) <= set(data.DOMAINS)
    assert names.ai == TweetTables().ai
    svg = dashboard.hourly_svg(board.hourly)
    assert svg.startswith("<svg") and svg.count("<rect") == len(board.hourly)


def test_bucket_counts_include_empty_buckets():
    start = datetime(2026, 11, 1, 8, tzinfo=UTC)
    found = pd.Series([2, 1], index=[pd.Timestamp(start), pd.Timestamp(start) + timedelta(hours=2)])
    counts = dashboard.bucket_counts(found, start, start + timedelta(hours=3), timedelta(hours=1))
    assert counts.tolist() == [2, 0, 1, 0]
    assert counts.index[0] == pd.Timestamp("2026-11-01T08:00Z")


def test_the_database_counts_tweets_per_bucket_on_both_backends(warehouse):
    frame = data.tweets(40)
    data.land_tweets(warehouse, frame)
    ai = frame[frame["probability"] >= 0.5]
    since, until = data.START, data.START + timedelta(hours=12)
    board = dashboard.load(warehouse, TweetTables(), min_probability=0.5, since=since, until=until)
    expected = ai.groupby(ai["created_at"].dt.floor("h")).size()
    assert board.hourly[board.hourly > 0].to_dict() == expected.to_dict()
    assert len(board.hourly) == 13 and board.total == len(ai)


def test_tokens_come_as_name_token_entries_and_bad_ones_are_named():
    found = parse_tokens("alice:0123456789abcdefXYZ:admin, bob:abcdefghijklmnopq")
    assert {t: (a.name, a.admin) for t, a in found.items()} == {
        "0123456789abcdefXYZ": ("alice", True),
        "abcdefghijklmnopq": ("bob", False),
    }
    with pytest.raises(InvalidInputError, match="entry 2 \\(bob\\): token has 5 characters"):
        parse_tokens("alice:0123456789abcdefXYZ,bob:short")
    with pytest.raises(InvalidInputError, match="entry 1 has 4"):
        parse_tokens("a:b:c:d")
    with pytest.raises(InvalidInputError, match="repeated"):
        parse_tokens("a:0123456789abcdefXYZ,a:0123456789abcdefXYQ")


def test_a_pair_label_withdrawn_here_no_longer_trains_entity_matching(warehouse):
    queue = data.land_pairs(warehouse, pairs=4)
    (kept_source, kept_target), (gone_source, gone_target) = (
        queue[["source_id", "target_id"]].head(2).values.tolist()
    )
    at = datetime(2026, 11, 2, tzinfo=UTC)
    sources.add_feedback(warehouse, gone_source, gone_target, 1, at)
    sources.add_feedback(warehouse, kept_source, kept_target, 0, at)
    sources.add_feedback(warehouse, gone_source, gone_target, None, at + timedelta(minutes=1))

    imported = em_assets.em_feedback(warehouse=warehouse).value
    warehouse.replace_rows("em_feedback", imported)  # as the asset's IO manager stores it

    pairs = queue[["source_id", "target_id"]].head(2)  # the kept pair, then the withdrawn one
    kept, withdrawn = em_model.training_labels(pairs, imported).tolist()
    assert kept == 0.0 and math.isnan(withdrawn)  # withdrawn: unlabelled, as if never given
    # and the withdrawal counts as imported: the feedback sensor does not see it again
    after = em_batches.stored_feedback_watermark(warehouse)
    assert em_batches.count_new_feedback(warehouse, after)[0] == 0
