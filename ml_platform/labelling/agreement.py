"""How far annotators agree: Cohen's kappa per pair of annotators, Fleiss' kappa per queue, and
the items they disagree on. Pure functions over current labels (`store.current_labels`)."""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen (1960): κ = (p_o − p_e) / (1 − p_e), with p_o the share of items both raters gave
    the same label and p_e the agreement expected from each rater's own label frequencies.
    NaN when undefined: no items, or both raters always used one and the same label (p_e = 1)."""
    if len(first) != len(second):
        raise ValueError(f"{len(first)} labels against {len(second)}: rate the same items")
    if not len(first):
        return math.nan
    a, b = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    observed = float(np.mean(a == b))
    categories = set(a) | set(b)
    expected = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in categories)
    if expected == 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss (1971) over an items × categories matrix of how many raters chose each category.

    With every item rated by the same number of raters this is Fleiss' κ exactly; items with
    different numbers of raters (≥ 2) use each item's own n_i in P_i = (Σ n_ij² − n_i) /
    (n_i (n_i − 1)), the usual generalisation. NaN when undefined (no items, one category)."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or not len(counts):
        return math.nan
    raters = counts.sum(axis=1)
    if (raters < 2).any():
        raise ValueError("every item needs at least two ratings")
    per_item = ((counts**2).sum(axis=1) - raters) / (raters * (raters - 1))
    observed = float(per_item.mean())
    shares = counts.sum(axis=0) / raters.sum()
    expected = float((shares**2).sum())
    if expected == 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    items: int  # labelled by both
    observed: float  # share of those items with the same label
    kappa: float  # Cohen's


@dataclass(frozen=True)
class QueueAgreement:
    items: int  # items with at least two labels
    observed: float  # share of those items where every label is the same
    fleiss_kappa: float
    pairs: list[PairAgreement]


def _labels_only(current: pd.DataFrame) -> pd.DataFrame:
    if current.empty:
        return pd.DataFrame(columns=["item_id", "annotator", "label"])
    return current.loc[current["action"] == "label", ["item_id", "annotator", "label"]]


def queue_agreement(current: pd.DataFrame) -> QueueAgreement:
    """Agreement over the items of one queue that two or more annotators labelled (skips are not
    judgements and do not count)."""
    labels = _labels_only(current)
    table = labels.pivot_table(
        index="item_id", columns="label", values="annotator", aggfunc="count", fill_value=0
    )
    shared = table[table.sum(axis=1) >= 2]
    unanimous = float((shared.max(axis=1) == shared.sum(axis=1)).mean()) if len(shared) else 0.0
    wide = labels.pivot(index="item_id", columns="annotator", values="label")
    pairs = []
    for first, second in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[first, second]].dropna()
        if both.empty:
            continue
        pairs.append(
            PairAgreement(
                first=first,
                second=second,
                items=len(both),
                observed=float((both[first] == both[second]).mean()),
                kappa=cohen_kappa(list(both[first]), list(both[second])),
            )
        )
    return QueueAgreement(
        items=len(shared),
        observed=unanimous,
        fleiss_kappa=fleiss_kappa(shared.to_numpy()) if len(shared) else math.nan,
        pairs=pairs,
    )


def disagreements(current: pd.DataFrame) -> pd.DataFrame:
    """Items whose annotators gave different labels: `item_id`, `labels` (annotator → label),
    `annotators`, newest first, for a person to resolve."""
    labels = _labels_only(current)
    if labels.empty:
        return pd.DataFrame(columns=["item_id", "labels", "annotators"])
    with_time = current.loc[current["action"] == "label"]
    split = with_time.groupby("item_id").filter(lambda rows: rows["label"].nunique() > 1)
    if split.empty:
        return pd.DataFrame(columns=["item_id", "labels", "annotators"])
    grouped = split.sort_values("annotator").groupby("item_id")
    out = pd.DataFrame(
        {
            "labels": grouped.apply(
                lambda rows: dict(zip(rows["annotator"], rows["label"], strict=True)),
                include_groups=False,
            ),
            "annotators": grouped["annotator"].count(),
            "newest": grouped["labelled_at"].max(),
        }
    )
    out = out.sort_values("newest", ascending=False).drop(columns="newest")
    return out.reset_index()


def resolved_label(labels: Sequence[str], needed: int) -> str | None:
    """The item's label once it has `needed` labels and a strict majority; None otherwise (too
    few labels yet, or a tie for a person to resolve)."""
    if len(labels) < needed or not labels:
        return None
    values, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    best = counts.argmax()
    if (counts == counts[best]).sum() > 1:
        return None
    return str(values[best])
