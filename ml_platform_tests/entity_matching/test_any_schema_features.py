"""Comparisons for non-person schemas: free text, lists, phones, quantities, event dates."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.entity_matching import blocking, features, normalise

COLUMNS = {
    "name": "free_text",
    "phone": "phone",
    "codes": "list",
    "amount": "quantity",
    "filed": "event_date",
}


def listings(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", *COLUMNS], dtype="string")


# Many records share "restaurant"; only one pair shares the rare "mortons".
RECORDS = listings(
    [
        ("a", "arnie morton's restaurant", "(310) 246-1501", "H04N; G06F", "100", "2001-01-01"),
        ("b", "arnie mortons", "+1 310/246-1501", "G06F;H04N", "105", "2001-02-01"),
        ("c", "golden restaurant", "310-246-1502", "A61K", "300", "2009-01-01"),
        ("d", "blue restaurant", "212-000-0000", "H04N; A61K; B01J", None, None),
        ("e", "red restaurant", None, "B01J", "90", "2001-01-01"),
    ]
    + [(f"x{i}", f"restaurant number{i}", None, None, None, None) for i in range(20)]
)


def compare(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=["source_id", "target_id"], dtype="string")
    out = features.compare(frame, RECORDS, RECORDS, COLUMNS)
    return out.set_index(["source_id", "target_id"])


def test_a_shared_rare_word_outweighs_a_shared_common_word():
    f = compare([("a", "b"), ("c", "d")])
    assert f.loc[("a", "b"), "name__tfidf_words"] > 0.5
    assert f.loc[("c", "d"), "name__tfidf_words"] < 0.2


def test_an_apostrophe_does_not_split_a_word():
    assert normalise.clean_words(pd.Series(["Morton's"])).iloc[0] == "mortons"


def test_phones_written_differently_are_the_same_number():
    f = compare([("a", "b"), ("a", "c")])
    assert f.loc[("a", "b"), "phone__osa"] == 1.0
    assert f.loc[("a", "c"), "phone__osa"] == pytest.approx(0.9)


def test_lists_compare_by_overlap_whatever_the_order():
    f = compare([("a", "b"), ("a", "d"), ("a", "c")])
    assert f.loc[("a", "b"), "codes__jaccard"] == 1.0
    assert f.loc[("a", "b"), "codes__idf_overlap"] == pytest.approx(1.0)
    assert f.loc[("a", "d"), "codes__jaccard"] == pytest.approx(0.25)
    assert f.loc[("a", "c"), "codes__idf_overlap"] == 0.0


def test_list_items_split_on_semicolons_else_on_spaces():
    items = normalise.list_items(pd.Series(["Lee, Seok Ju; Kim", "H04N  G06F", None]))
    assert items.tolist()[:2] == ["kim|lee seok ju", "g06f|h04n"]
    assert pd.isna(items.iloc[2])


def test_near_quantities_and_dates_are_closer_than_far_ones():
    f = compare([("a", "b"), ("a", "c"), ("a", "e")])
    assert f.loc[("a", "b"), "amount__closeness"] > f.loc[("a", "c"), "amount__closeness"]
    assert f.loc[("a", "e"), "filed__days_closeness"] == 1.0
    assert 0.8 < f.loc[("a", "b"), "filed__days_closeness"] < 1.0
    assert f.loc[("a", "c"), "filed__days_closeness"] < 0.01


def test_missing_values_are_no_evidence_for_the_new_types():
    f = compare([("a", "d")])
    assert np.isnan(f.loc[("a", "d"), "amount__closeness"])
    assert f.loc[("a", "d"), "filed__missing"] == 1.0


def test_token_blocking_pairs_records_sharing_a_rare_word_and_skips_common_words():
    rule = blocking.BlockingRule("name_tokens", ("name",), ("clean",), method="tokens")
    keys = blocking.block_keys(RECORDS, [rule])
    pairs, stats = blocking.candidate_pairs(keys, keys, [rule], max_block_pairs=100)
    found = set(zip(pairs["source_id"], pairs["target_id"]))
    assert ("a", "b") in found
    assert ("c", "d") not in found  # only "restaurant" in common: a block of 24², skipped
    assert stats.skipped_blocks["name_tokens"] >= 1
