"""The golden-labels sensor counts only labels no model was trained on yet (a real instance and
SQLite warehouse; the whole-job behaviour is in test_assets.py)."""

import dagster as dg
import pandas as pd

from ml_platform.tweets import golden
from ml_platform.tweets.assets import CANDIDATE
from ml_platform.tweets.resources import TweetsSettings
from ml_platform.tweets.sensors import tweets_golden_labels_sensor

SETTINGS = TweetsSettings(retrain_after_labels=5)


def label(warehouse, tweet_ids, annotator="ana") -> int:
    rows = pd.DataFrame(
        {
            "tweet_id": list(tweet_ids),
            "label": 1,
            "annotator": annotator,
            "labelled_at": pd.Timestamp("2026-03-01", tz="UTC"),
            "source": "ui",
        }
    )
    return golden.store(warehouse, SETTINGS.tables().golden, rows)


def evaluate(instance, warehouse, cursor=None):
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"tweets_settings": SETTINGS, "warehouse": warehouse},
    ) as context:
        return tweets_golden_labels_sensor(context)


def test_labels_the_latest_model_was_trained_on_start_no_retrain(sqlite_warehouse):
    """Before: the cursor alone decided, so a tweets_job that imported 450 labels and trained
    on them set off a second, full retrain on the same 450."""
    assert label(sqlite_warehouse, range(1, 451)) == 450
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(CANDIDATE, metadata={"golden_rows": 450})
        )

        untouched = evaluate(instance, sqlite_warehouse)
        label(sqlite_warehouse, range(451, 455))
        four_more = evaluate(instance, sqlite_warehouse)
        label(sqlite_warehouse, [455])
        five_more = evaluate(instance, sqlite_warehouse)

    assert untouched.skip_message == "0 new golden labels; retraining at 5"
    assert four_more.skip_message == "4 new golden labels; retraining at 5"
    assert [r.run_key for r in five_more.run_requests] == ["golden-labels-455"]
    assert five_more.cursor == "455"


def test_without_a_model_every_label_is_new_and_the_cursor_still_counts(sqlite_warehouse):
    label(sqlite_warehouse, range(1, 8))
    with dg.instance_for_test() as instance:
        first = evaluate(instance, sqlite_warehouse)
        requested_already = evaluate(instance, sqlite_warehouse, cursor=first.cursor)

    assert first.cursor == "7" and len(first.run_requests) == 1
    assert requested_already.skip_message == "0 new golden labels; retraining at 5"
