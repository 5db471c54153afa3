"""The label store on both warehouse backends: append-only, undo by retraction rows."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.labelling.store import LabelStore, QueueSettings


def test_a_changed_label_and_an_undo_are_new_rows_and_the_current_label_is_derived(warehouse):
    store = LabelStore(warehouse)
    store.record("tweets", "11", "ann", "label", label="1", item_version="v1")
    store.record("tweets", "11", "ann", "label", label="0", note="second look")
    store.record("tweets", "12", "ann", "skip")
    store.record("tweets", "11", "bob", "label", label="1")
    assert store.undo("tweets", "ann")["item_id"] == "12"  # the skip
    assert store.undo("tweets", "ann")["label"] == "0"  # then the correction
    rows = store.rows(queue="tweets")
    assert len(rows) == 6  # nothing updated or deleted
    assert rows["action"].tolist() == ["label", "label", "skip", "label", "retract", "retract"]
    assert rows["labelled_at"].dt.tz is not None
    now = store.current("tweets")
    assert sorted(zip(now["item_id"], now["annotator"], now["label"])) == [
        ("11", "ann", "1"),  # back to the first label
        ("11", "bob", "1"),
    ]
    assert store.undo("tweets", "ann")["label"] == "1"
    assert store.undo("tweets", "ann") is None
    assert store.current("tweets", ["11"])["annotator"].tolist() == ["bob"]


def test_assignments_and_queue_settings_keep_history_and_the_latest_wins(warehouse):
    store = LabelStore(warehouse)
    default = QueueSettings(1, 0.2)
    assert store.queue_settings("pairs", default) == default
    store.configure("pairs", QueueSettings(3, 0.0), "ann")
    store.configure("pairs", QueueSettings(2, 0.1), "ann")
    assert store.queue_settings("pairs", default) == QueueSettings(2, 0.1)
    store.assign("bob", "pairs", False, "ann")
    store.assign("bob", "pairs", True, "ann")
    store.assign("bob", "tweets", False, "ann")
    assert store.assignments() == {"bob": {"pairs": True, "tweets": False}}
    with pytest.raises(InvalidInputError, match="labels_per_item"):
        store.configure("pairs", QueueSettings(0, 0.1), "ann")


def test_values_are_parameters_not_sql(warehouse):
    store = LabelStore(warehouse)
    evil = "x'); DROP TABLE labelling_labels; --"
    store.record(evil, evil, evil, "label", label=evil, note=evil)
    rows = store.rows(queue=evil, annotator=evil, item_ids=[evil])
    assert rows[["queue", "item_id", "label", "note"]].iloc[0].tolist() == [evil] * 4
    assert isinstance(store.rows(), pd.DataFrame) and len(store.rows()) == 1
