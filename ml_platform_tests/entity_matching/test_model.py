import numpy as np
import pandas as pd
import pytest

from ml_platform.entity_matching import matching, model, training

from .records import COLUMNS


def synthetic_levels(n_pairs: int, match_share: float, seed: int = 0):
    """Comparison levels drawn from known m/u: matches mostly agree, non-matches mostly not."""
    rng = np.random.default_rng(seed)
    y = rng.random(n_pairs) < match_share
    n_cols = 6
    agree = np.where(
        y[:, None], rng.random((n_pairs, n_cols)) < 0.9, rng.random((n_pairs, n_cols)) < 0.1
    )
    levels = np.where(agree, 0, 2).astype(np.int8)
    levels[rng.random(levels.shape) < 0.05] = model.MISSING
    return levels, y


def f1(predicted: np.ndarray, y: np.ndarray) -> float:
    tp = (predicted & y).sum()
    return 2 * tp / (predicted.sum() + y.sum())


def test_em_without_labels_is_as_good_as_knowing_the_true_parameters():
    X, y = synthetic_levels(20_000, 0.05)
    fs = model.FellegiSunter().fit(X)
    # the Bayes-optimal decision with the generating m = 0.9, u = 0.1 and prior 0.05
    evidence = np.where(X == 0, np.log(9), np.where(X == 2, -np.log(9), 0.0)).sum(axis=1)
    oracle = evidence + np.log(0.05 / 0.95) > 0
    assert f1(fs.predict(X).astype(bool), y) >= f1(oracle, y) - 0.01
    assert fs.prior_ == pytest.approx(0.05, abs=0.01)


def test_missing_levels_carry_no_weight():
    X, _ = synthetic_levels(5_000, 0.1)
    fs = model.FellegiSunter().fit(X)
    assert (fs.match_weights(np.full((1, X.shape[1]), model.MISSING, np.int8)) == 0).all()


def test_labels_override_em_for_the_pairs_people_reviewed():
    X, _ = synthetic_levels(5_000, 0.1)
    # a pattern EM would call a match, labelled as a non-match many times
    trap = np.zeros((200, X.shape[1]), np.int8)
    labels = np.concatenate([np.full(len(X), np.nan), np.zeros(200)])
    fs = model.FellegiSunter(label_weight=50).fit(np.vstack([X, trap]), labels)
    unsupervised = model.FellegiSunter().fit(X)
    assert fs.predict_proba(trap[:1])[0, 1] < unsupervised.predict_proba(trap[:1])[0, 1]


def test_warm_start_begins_from_the_previous_parameters():
    X, _ = synthetic_levels(20_000, 0.05)
    cold = model.FellegiSunter().fit(X)
    warm = model.FellegiSunter(warm_start=True)
    warm.m_, warm.u_, warm.prior_ = cold.m_, cold.u_, cold.prior_
    warm.fit(X)
    assert warm.n_iter_ <= cold.n_iter_


def test_held_out_feedback_never_reaches_training():
    pairs = pd.DataFrame({"source_id": [f"s{i}" for i in range(1000)], "target_id": "t"})
    held = training.is_held_out(pairs, 0.2)
    assert 0.15 < held.mean() < 0.25
    assert (training.is_held_out(pairs, 0.2) == held).all()  # stable across retrains


def test_best_target_per_source_above_threshold():
    scores = pd.DataFrame(
        {
            "source_id": ["s1", "s1", "s2", "s3"],
            "target_id": ["t1", "t2", "t1", "t3"],
            "probability": [0.99, 0.7, 0.95, 0.2],
        }
    )
    chosen = matching.select_matches(scores, threshold=0.5)
    assert set(zip(chosen.source_id, chosen.target_id)) == {("s1", "t1"), ("s2", "t1")}
    one_to_one = matching.select_matches(scores, threshold=0.5, one_to_one=True)
    assert set(zip(one_to_one.source_id, one_to_one.target_id)) == {("s1", "t1")}


def test_review_queue_holds_the_least_certain_pairs_first():
    scores = pd.DataFrame(
        {
            "source_id": ["a", "b", "c", "d"],
            "target_id": ["t"] * 4,
            "probability": [0.99, 0.52, 0.3, 0.01],
        }
    )
    queue = matching.review_queue(scores, size=5)
    assert list(queue.source_id) == ["b", "c"]


def test_evaluate_counts_hits_misses_and_false_alarms():
    truth = pd.DataFrame({"source_id": ["s1", "s2"], "target_id": ["t1", "t2"]})
    found = pd.DataFrame({"source_id": ["s1", "s3"], "target_id": ["t1", "t3"]})
    result = matching.evaluate(found, truth)
    assert result["precision"] == 0.5 and result["recall"] == 0.5


def test_explanations_name_the_deciding_columns():
    from ml_platform.entity_matching import features

    from .records import SOURCES, TARGETS

    pairs = pd.DataFrame(
        {"source_id": ["s1", "s4", "s3"], "target_id": ["t1", "t3", "t4"]}, dtype="string"
    )
    table = features.compare(pairs, SOURCES, TARGETS, COLUMNS)
    fitted = model.build_model(COLUMNS).fit(table, np.array([1.0, 0.0, 1.0]))
    texts = model.explain(fitted, table)
    assert all(texts.str.len() > 0)
    assert "soc_sec_id exact" in texts.iloc[0]
