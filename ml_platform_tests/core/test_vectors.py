import numpy as np
import pytest

from ml_platform.core.vectors import VectorIndex


def index(metric: str = "dot") -> VectorIndex:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [2.0, 0.0]])
    return VectorIndex(np.array([10, 11, 12, 13]), vectors, metric=metric)


def test_dot_search_returns_the_best_ids_best_first():
    ids, scores = index().search(np.array([1.0, 0.0]), k=2)
    assert ids.tolist() == [[13, 10]]
    assert scores[0, 0] == pytest.approx(2.0)


def test_cosine_ignores_length():
    ids, _ = index("cosine").search(np.array([1.0, 0.0]), k=2)
    assert set(ids[0].tolist()) == {10, 13}


def test_excluded_ids_are_skipped_and_k_results_remain():
    ids, _ = index().search(np.array([[1.0, 0.0]]), k=2, exclude=[{13}])
    assert ids.tolist() == [[10, 11]]


def test_k_larger_than_the_index_returns_everything():
    ids, _ = index().search(np.array([0.0, 1.0]), k=99)
    assert ids.shape == (1, 4) and ids[0, 0] == 12


def test_vectors_by_id_and_unknown_ids():
    idx = index()
    assert idx.vector(12).tolist() == [0.0, 1.0]
    assert 12 in idx and 99 not in idx
    with pytest.raises(KeyError):
        idx.vector(99)


def test_mismatched_ids_and_vectors_are_refused():
    with pytest.raises(ValueError, match="3 ids but 4 vectors"):
        VectorIndex(np.array([1, 2, 3]), np.zeros((4, 2)))


def test_nearest_for_one_query_agrees_with_search_and_skips_the_excluded_row():
    rng = np.random.default_rng(3)
    index = VectorIndex(np.array([f"u{i}" for i in range(50)]), rng.normal(size=(50, 8)))
    query = rng.normal(size=8)

    positions, scores = index.nearest(query, 5, exclude_position=index.position("u7"))
    ids, expected = index.search(query, 5, exclude=[{"u7"}])

    assert index.ids[positions].tolist() == ids[0].tolist()
    np.testing.assert_allclose(scores, expected[0], rtol=1e-5)
    assert index.position("nobody") is None and len(index.nearest(query, 0)[0]) == 0
