"""Which item comes next, and how a pair is compared field by field."""

import pandas as pd

from ml_platform.labelling.queues import (
    compare_fields,
    next_item,
    pair_item_id,
    progress,
    split_pair_item_id,
)

CANDIDATES = pd.DataFrame(
    {"item_id": [f"t{i}" for i in range(100)], "priority": [abs(i - 50) / 100 for i in range(100)]}
)
NOBODY = pd.DataFrame(columns=["item_id", "annotator", "action", "label"])


def labels(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "action": ["skip" if r[2] == "-" else "label" for r in rows],
            "label": [None if r[2] == "-" else r[2] for r in rows],
        }
    )


def test_without_random_share_the_most_uncertain_item_comes_first_and_started_items_before():
    pick = next_item(CANDIDATES, NOBODY, "ann", needed=1, random_share=0.0, draw_key="x")
    assert pick == "t50"
    done = labels([("t50", "bob", "1"), ("t10", "bob", "0")])
    # t50 is complete at k = 1; at k = 2 bob's items are finished first, least certain first
    assert next_item(CANDIDATES, done, "ann", needed=1, random_share=0.0, draw_key="x") == "t49"
    assert next_item(CANDIDATES, done, "ann", needed=2, random_share=0.0, draw_key="x") == "t50"
    mine = labels([("t50", "ann", "-")])
    assert next_item(CANDIDATES, mine, "ann", needed=2, random_share=0.0, draw_key="x") == "t49"


def test_the_random_share_of_picks_is_close_to_the_configured_share():
    picks = [
        next_item(CANDIDATES, NOBODY, "ann", needed=1, random_share=0.3, draw_key=str(k))
        for k in range(500)
    ]
    uncertain = sum(p == "t50" for p in picks)
    random_picks = len(picks) - uncertain
    assert 0.24 < random_picks / len(picks) < 0.36  # plus the rare random t50
    assert len(set(picks)) > 60  # random picks cover the queue
    assert picks == [
        next_item(CANDIDATES, NOBODY, "ann", needed=1, random_share=0.3, draw_key=str(k))
        for k in range(500)
    ]  # stable: a reload shows the same item


def test_progress_counts_complete_items_and_what_is_left_for_the_annotator():
    current = labels(
        [("t1", "ann", "1"), ("t1", "bob", "1"), ("t2", "bob", "0"), ("t3", "ann", "-")]
    )
    done = progress(CANDIDATES, current, "ann", needed=2)
    assert (done.items, done.complete, done.labelled_by_me, done.left_for_me) == (100, 1, 1, 98)


def test_pair_fields_are_marked_same_similar_different_or_missing():
    rows = compare_fields(
        {"surname": "Smith", "given_name": "jon", "postcode": "2000", "state": None},
        {"surname": "smith ", "given_name": "john", "postcode": "3056", "state": "nsw"},
    )
    assert {r["field"]: r["status"] for r in rows} == {
        "surname": "same",
        "given_name": "similar",
        "postcode": "different",
        "state": "missing",
    }


def test_pair_item_ids_round_trip_whatever_the_record_ids_contain():
    assert split_pair_item_id(pair_item_id("a|b", "c%d")) == ("a|b", "c%d")
    assert split_pair_item_id("no-separator") is None
