import numpy as np
import pytest

from ml_platform.core.ids import IdRows


def test_rows_follow_the_original_order_and_missing_ids_are_minus_one():
    index = IdRows(np.array([30, 10, 20]))

    assert index.rows(np.array([20, 30, 99, 10, 5])).tolist() == [2, 0, -1, 1, -1]
    assert index.row(10) == 1 and 20 in index and 99 not in index and len(index) == 3


def test_string_ids_and_an_empty_index_work_too():
    assert IdRows(np.array(["b", "a"])).rows(np.array(["a", "c"])).tolist() == [1, -1]
    assert IdRows(np.array([], dtype=int)).rows(np.array([1])).tolist() == [-1]


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="unique"):
        IdRows(np.array([1, 2, 1]))


def test_known_keeps_the_values_of_known_keys_in_their_order():
    index = IdRows(np.array([30, 10, 20]))

    rows, values = index.known({20: 4.5, 99: 1.0, 30: 2.0})
    assert rows.tolist() == [2, 0] and values.tolist() == [4.5, 2.0]
    rows, values = index.known({10: 3.0, 20: 5.0})
    assert rows.tolist() == [1, 2] and values.tolist() == [3.0, 5.0]
    rows, values = index.known({})
    assert len(rows) == 0 and len(values) == 0
