import numpy as np
import pandas as pd
import pytest

from ml_platform.entity_matching import features

from .records import COLUMNS, SOURCES, TARGETS


def compare(pairs):
    frame = pd.DataFrame(pairs, columns=["source_id", "target_id"], dtype="string")
    return features.compare(frame, SOURCES, TARGETS, COLUMNS).set_index(["source_id", "target_id"])


def test_a_typo_scores_high_but_below_an_exact_match():
    f = compare([("s1", "t1")]).iloc[0]
    assert 0.85 < f["given_name__jaro_winkler"] < 1.0
    assert f["surname__jaro_winkler"] == 1.0


def test_swapped_first_and_last_names_compare_as_agreeing():
    f = compare([("s2", "t2")]).iloc[0]
    assert f["given_name__jaro_winkler"] == 1.0 and f["surname__jaro_winkler"] == 1.0


def test_missing_values_are_nan_with_a_missing_flag_not_a_mismatch():
    f = compare([("s2", "t2")]).iloc[0]
    assert np.isnan(f["date_of_birth__osa"])
    assert f["date_of_birth__missing"] == 1.0
    assert f["state__missing"] == 0.0


def test_transposed_postcode_digits_count_as_one_edit():
    f = compare([("s1", "t1")]).iloc[0]
    assert f["postcode__osa"] == pytest.approx(0.75)


def test_day_and_month_swapped_is_recognised():
    f = compare([("s3", "t4")]).iloc[0]
    assert f["date_of_birth__day_month_swap"] == 1.0


def test_a_space_inside_a_name_does_not_break_it():
    f = compare([("s3", "t4")]).iloc[0]
    assert f["surname__jaro_winkler"] == 1.0


def test_unknown_ids_are_refused():
    with pytest.raises(ValueError, match="not in the records"):
        compare([("s1", "nobody")])
