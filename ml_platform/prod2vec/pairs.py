"""Baskets → labelled (target, context) pairs for skip-gram with negative sampling.

A basket has no word order: the items of each basket are shuffled, then every item is a target
whose context is the items within `window` positions of it (or, with `window=None`, the whole
rest of the basket). Frequent items are subsampled first (Mikolov et al. 2013, as in word2vec's C
code and gensim: an occurrence of an item making up share f of all occurrences is kept with
probability min(1, √(t/f) + t/f)), so bananas stop drowning out what a basket says about its
rarer items. Each positive pair gets `negatives` pairs (target, random item) labelled 0, the
random items drawn from the unigram distribution raised to `negative_power` (0.75 in
word2vec), which lifts rare items' chances of being a negative.

Baskets are held as CSR arrays (`offsets`, `items`): basket b is `items[offsets[b]:offsets[b+1]]`,
items being rows of the model's vocabulary. Everything is vectorised: 100,000 orders give tens of
millions of pairs in seconds.
"""

from dataclasses import dataclass
from typing import Self

import numpy as np
import pydantic

from ml_platform.core.config import ConfigModel


class PairConfig(ConfigModel):
    """How pairs are made; each knob is one of the original pipeline's choices made explicit
    (also the prod2vec resource's config keys of the same names)."""

    window: int | None = 5  # context = items within this many positions; None = whole basket
    shuffle: bool = True  # shuffle each basket first (the cart order is not a sentence)
    subsample: float | None = 1e-3  # frequent-item subsampling threshold t; None = off
    negatives: int = 4  # negative pairs per positive pair
    negative_power: float = 0.75  # negatives ~ unigram ** power
    seed: int = 42

    @pydantic.model_validator(mode="after")
    def _possible(self) -> Self:
        if self.window is not None and self.window < 1:
            raise ValueError(f"window is {self.window}, expected ≥ 1 or None (whole basket)")
        if self.negatives < 1:
            raise ValueError(f"negatives is {self.negatives}, expected ≥ 1")
        if self.subsample is not None and not 0 < self.subsample < 1:
            raise ValueError(f"subsample is {self.subsample}, expected between 0 and 1 or None")
        return self


@dataclass(frozen=True)
class SkipgramPairs:
    """Rows in random order; `label` 1 for a (target, context) seen in a basket, 0 for a
    negative."""

    target: np.ndarray  # int32 vocabulary rows
    context: np.ndarray  # int32 vocabulary rows
    label: np.ndarray  # int8

    def __len__(self) -> int:
        return len(self.label)

    @property
    def positives(self) -> int:
        return int(np.count_nonzero(self.label))


def keep_probabilities(counts: np.ndarray, threshold: float | None) -> np.ndarray:
    """word2vec's subsampling: P(keep) = min(1, √(t/f) + t/f), f = the item's share of all
    item occurrences (gensim's `sample`); 1 everywhere when `threshold` is None."""
    counts = np.asarray(counts, dtype=np.float64)
    if threshold is None:
        return np.ones(len(counts))
    share = counts / counts.sum()
    with np.errstate(divide="ignore"):
        ratio = np.where(share > 0, threshold / share, np.inf)
    return np.minimum(1.0, np.sqrt(ratio) + ratio)


def negative_distribution(counts: np.ndarray, power: float) -> np.ndarray:
    """P(item drawn as a negative) ∝ count ** power."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def subsample(
    offsets: np.ndarray, items: np.ndarray, keep: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Baskets with each item occurrence kept with probability `keep[item]`."""
    kept = rng.random(len(items)) < keep[items]
    basket = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    sizes = np.bincount(basket[kept], minlength=len(offsets) - 1)
    return np.concatenate([[0], np.cumsum(sizes)]), items[kept]


def positive_pairs(
    offsets: np.ndarray,
    items: np.ndarray,
    window: int | None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(target, context) for every two items of a basket at most `window` positions apart
    (both directions), after shuffling each basket when `rng` is given."""
    sizes = np.diff(offsets)
    basket = np.repeat(np.arange(len(sizes)), sizes)
    if rng is not None:
        order = np.lexsort((rng.random(len(items)), basket))
        items = items[order]
    reach = int(sizes.max(initial=1)) - 1 if window is None else window
    targets, contexts = [], []
    for distance in range(1, reach + 1):
        same = np.flatnonzero(basket[distance:] == basket[:-distance])
        if not len(same):
            break
        left, right = items[same], items[same + distance]
        targets += [left, right]
        contexts += [right, left]
    if not targets:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty
    return (
        np.concatenate(targets).astype(np.int32),
        np.concatenate(contexts).astype(np.int32),
    )


def sample_negatives(distribution: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` items drawn from `distribution` (inverse CDF: a searchsorted per draw)."""
    cumulative = np.cumsum(distribution)
    drawn = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(drawn, len(distribution) - 1).astype(np.int32)


def make_pairs(
    offsets: np.ndarray, items: np.ndarray, n_items: int, config: PairConfig
) -> SkipgramPairs:
    """Subsample, shuffle, pair within the window, add negatives, shuffle the rows."""
    rng = np.random.default_rng(config.seed)
    counts = np.bincount(items, minlength=n_items)
    kept_offsets, kept_items = subsample(
        offsets, items, keep_probabilities(counts, config.subsample), rng
    )
    target, context = positive_pairs(
        kept_offsets, kept_items, config.window, rng if config.shuffle else None
    )
    negatives = sample_negatives(
        negative_distribution(counts, config.negative_power),
        len(target) * config.negatives,
        rng,
    )
    all_targets = np.concatenate([target, np.repeat(target, config.negatives)])
    all_contexts = np.concatenate([context, negatives])
    labels = np.concatenate([np.ones(len(target), np.int8), np.zeros(len(negatives), np.int8)])
    order = rng.permutation(len(labels))
    return SkipgramPairs(
        target=all_targets[order],
        context=all_contexts[order],
        label=labels[order],
    )


def context_log_prior(counts: np.ndarray, config: PairConfig) -> np.ndarray:
    """What turns a trained target · context score into a "bought with" ranking.

    At its optimum, skip-gram with k negatives from Pₙ sets target · context =
    log P(c | t) − log(k · Pₙ(c)) for the pairs it was shown (Levy & Goldberg 2014); those pairs
    kept c with probability keep(c). So log P(c | t) = target · context + log Pₙ(c) − log
    keep(c) + constant: this vector, added to the scores, ranks contexts by how likely they are
    in the target's basket rather than by how surprising (PMI), which favours rare items.
    """
    counts = np.asarray(counts)
    seen = counts > 0
    prior = np.full(len(counts), -np.inf)
    prior[seen] = np.log(negative_distribution(counts, config.negative_power)[seen]) - np.log(
        keep_probabilities(counts, config.subsample)[seen]
    )
    return prior
