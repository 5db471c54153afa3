"""Clustering scored pairs of one table: resisting chains, confidence, pairwise quality."""

import pandas as pd
import pytest

from ml_platform.entity_matching import clustering


def scores(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source_id", "target_id", "probability"])


def clusters_of(result: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["record_id"]) for _, g in result.groupby("cluster_id")}


def test_every_record_gets_a_cluster_singletons_included():
    result = clustering.cluster_records(["a", "b", "c"], scores([("a", "b", 0.99)]))
    assert clusters_of(result) == {frozenset("ab"), frozenset("c")}
    assert result.set_index("record_id").loc["a", "cluster_id"] == "a"


def test_one_bad_edge_does_not_chain_two_clear_clusters():
    # {a, b, c} and {d, e} are tight; c–d is one strong-looking edge, but c's partners and
    # d's partners clearly differ: connected components would put all five together.
    pairs = [("a", "b", 0.99), ("a", "c", 0.99), ("b", "c", 0.99), ("d", "e", 0.99)]
    pairs += [("c", "d", 0.95), ("a", "d", 0.01), ("b", "d", 0.01), ("c", "e", 0.01)]
    pairs += [("a", "e", 0.02), ("b", "e", 0.02)]
    result = clustering.cluster_records(list("abcde"), scores(pairs))
    assert clusters_of(result) == {frozenset("abc"), frozenset("de")}


def test_a_chain_without_contradicting_evidence_stays_together():
    pairs = [("a", "b", 0.99), ("b", "c", 0.99)]  # a–c never scored: no evidence against
    result = clustering.cluster_records(list("abc"), scores(pairs))
    assert clusters_of(result) == {frozenset("abc")}


def test_confidence_is_low_for_a_cluster_whose_pairs_disagree():
    pairs = [("a", "b", 0.99), ("c", "d", 0.9), ("c", "e", 0.9), ("d", "e", 0.3)]
    result = clustering.cluster_records(list("abcdef"), scores(pairs)).set_index("record_id")
    assert result.loc["a", "cluster_confidence"] == pytest.approx(0.99)
    assert result.loc["c", "cluster_confidence"] == pytest.approx(0.7)
    assert result.loc["f", "cluster_confidence"] == 1.0  # never a candidate of anyone


def test_a_pair_naming_an_unknown_record_is_an_error():
    with pytest.raises(ValueError, match="not in the table"):
        clustering.cluster_records(["a"], scores([("a", "z", 0.9)]))


def test_pairwise_quality_counts_pairs_of_records_sharing_a_cluster():
    predicted = pd.DataFrame({"record_id": list("abcd"), "cluster_id": ["a", "a", "a", "d"]})
    truth = pd.Series(["x", "x", "y", "y"], index=list("abcd"))
    quality = clustering.pairwise_quality(predicted, truth)
    assert quality["precision"] == pytest.approx(1 / 3)  # ab right, ac and bc wrong
    assert quality["recall"] == pytest.approx(1 / 2)  # ab found, cd missed
