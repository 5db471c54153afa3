"""Kappas against the textbook hand computations, and the disagreements people must resolve."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ml_platform.labelling.agreement import (
    cohen_kappa,
    disagreements,
    fleiss_kappa,
    queue_agreement,
    resolved_label,
)


def test_cohen_kappa_matches_the_worked_example():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 → p_o 0.7, p_e 0.5, κ 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa(["x"] * 4, ["x"] * 4))  # p_e = 1: undefined, not 1 or 0


def test_fleiss_kappa_matches_fleiss_1971_worked_example():
    # 10 items, 14 raters, 5 categories: P̄ = 0.378, P̄e = 0.213, κ = 0.210
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert fleiss_kappa(counts) == pytest.approx(0.20993, abs=1e-5)
    with pytest.raises(ValueError, match="two ratings"):
        fleiss_kappa(np.array([[1, 0]]))


def current(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "label": [r[2] for r in rows],
            "action": ["skip" if r[2] == "-" else "label" for r in rows],
            "labelled_at": [start + timedelta(minutes=i) for i in range(len(rows))],
        }
    )


def test_queue_agreement_counts_only_items_labelled_twice_and_ignores_skips():
    labels = current(
        [
            ("a", "ann", "1"), ("a", "bob", "1"),
            ("b", "ann", "1"), ("b", "bob", "0"),
            ("c", "ann", "0"), ("c", "bob", "0"), ("c", "cy", "0"),
            ("d", "ann", "1"),  # one label: no agreement to measure
            ("e", "ann", "1"), ("e", "bob", "-"),  # a skip is no judgement
        ]
    )  # fmt: skip
    result = queue_agreement(labels)
    assert result.items == 3 and result.observed == pytest.approx(2 / 3)
    ann_bob = next(p for p in result.pairs if (p.first, p.second) == ("ann", "bob"))
    assert ann_bob.items == 3 and ann_bob.observed == pytest.approx(2 / 3)
    # ann 1,1,0 vs bob 1,0,0: p_o = 2/3, p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9 → κ = 0.4
    assert ann_bob.kappa == pytest.approx(0.4)
    split = disagreements(labels)
    assert split["item_id"].tolist() == ["b"]
    assert split["labels"].iloc[0] == {"ann": "1", "bob": "0"}


def test_an_item_is_settled_by_k_labels_with_a_strict_majority():
    assert resolved_label(["1"], needed=2) is None
    assert resolved_label(["1", "0"], needed=2) is None
    assert resolved_label(["1", "0", "1"], needed=2) == "1"
    assert resolved_label(["0"], needed=1) == "0"
