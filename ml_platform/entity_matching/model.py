"""The match model: a scikit-learn Pipeline of comparison levels and a Fellegi–Sunter classifier.

Why Fellegi–Sunter: it needs no labels (cold start), its parameters are learnt by EM from the
candidate pairs themselves, and its per-comparison match weights are an explanation a reviewer
can read ("date_of_birth exact +6.2"). A logistic second stage re-weights that evidence from EM's
confident decisions and from human feedback, so labels improve the model without a few hundred
rows having to carry a whole classifier; a retrain starts from the previous parameters.

References: Fellegi & Sunter (1969), "A Theory for Record Linkage", JASA 64(328); Winkler (1988)
for EM estimation of m and u; Enamorado, Fifield & Imai (2019), fastLink, for missing values
treated as ignorable (they contribute no weight).
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ml_platform.entity_matching.features import MEASURES, feature_name

# Similarity cut points (first measure of the type) from "agrees exactly" to "disagrees".
LEVEL_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "name": (0.9999, 0.94, 0.88, 0.75),
    "text": (0.9999, 0.85, 0.70, 0.50),
    "address": (0.9999, 0.80, 0.60, 0.40),
    "date": (0.9999, 0.87, 0.74),
    "number": (0.9999, 0.50),
    "code": (0.9999, 0.80, 0.60),
    "free_text": (0.9999, 0.80, 0.60, 0.40, 0.20),  # TF-IDF word cosine
    "list": (0.9999, 0.50, 0.25, 1e-6),  # IDF-weighted overlap; last level = nothing shared
    # one wrong digit of ten, else differs: numbers of one switchboard share most digits
    "phone": (0.9999, 0.85),
    "quantity": (0.9999, 0.70, 0.25),  # 5% and 20% apart
    "event_date": (0.9999, 0.90, 0.50, 0.15),  # a month, half a year, about 1.4 years apart
    "group": (0.9999, 0.90, 0.75, 0.50),  # mean similarity of a group's parts
}
MISSING = -1


class ComparisonLevels(TransformerMixin, BaseEstimator):
    """Feature table → one small integer level per comparison (0 = agrees exactly, −1 = missing).

    A comparison is one column, or a *group* of columns that describe the same thing (the six
    parts of an address). Fellegi–Sunter treats comparisons as independent given the match
    status; an address's parts are not — family members share all of them — so counting each
    part as separate evidence would let a shared address outvote a different name, birth date
    and id. A group is compared once, by the mean similarity of its parts that are present.
    """

    def __init__(self, columns: Mapping[str, str], groups: Mapping[str, list[str]] | None = None):
        self.columns = columns
        self.groups = groups

    def fit(self, X: pd.DataFrame, y=None) -> "ComparisonLevels":
        grouped = {c for members in (self.groups or {}).values() for c in members}
        self.comparisons_ = {name: list(members) for name, members in (self.groups or {}).items()}
        for column in self.columns:
            if column not in grouped:
                self.comparisons_[column] = [column]
        self.columns_ = list(self.comparisons_)
        return self

    def _kind(self, comparison: str) -> str:
        members = self.comparisons_[comparison]
        return self.columns[members[0]] if len(members) == 1 else "group"

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "columns_")
        levels = np.empty((len(X), len(self.columns_)), dtype=np.int8)
        for j, comparison in enumerate(self.columns_):
            members = self.comparisons_[comparison]
            kind = self._kind(comparison)
            similarities = np.column_stack(
                [
                    X[feature_name(c, MEASURES[self.columns[c]][0])].to_numpy(np.float64)
                    for c in members
                ]
            )
            present = ~np.isnan(similarities)
            counted = present.sum(axis=1)
            similarity = np.where(
                counted > 0, np.nansum(similarities, axis=1) / np.maximum(counted, 1), np.nan
            )
            thresholds = np.asarray(LEVEL_THRESHOLDS[kind])
            # number of cut points the similarity falls below = its level
            level = (similarity[:, None] < thresholds[None, :]).sum(axis=1)
            if kind == "date":  # day and month swapped is a near-agreement, not a mismatch
                swapped = X[feature_name(members[0], "day_month_swap")].to_numpy() > 0
                level = np.where(swapped, 1, level)
            levels[:, j] = np.where(np.isnan(similarity), MISSING, level)
        return levels

    def level_names(self) -> list[list[str]]:
        """Readable names of each comparison's levels, for explanations and plots."""
        names = []
        for comparison in self.columns_:
            cuts = LEVEL_THRESHOLDS[self._kind(comparison)]
            names.append(["exact"] + [f"≥{c:.2f}" for c in cuts[1:]] + ["differs"])
        return names


class FellegiSunter(ClassifierMixin, BaseEstimator):
    """Fellegi–Sunter match probability with m/u/λ estimated by (semi-supervised) EM.

    ``y`` may hold NaN for unlabelled pairs: labelled pairs keep their known match status in
    every E-step and count ``label_weight`` times, so a few hundred reviewed pairs steer the
    estimates drawn from hundreds of thousands of unlabelled ones.
    """

    def __init__(
        self,
        max_iter: int = 100,
        tol: float = 1e-6,
        label_weight: float = 1.0,
        warm_start: bool = False,
        smoothing: float = 1e-3,
    ):
        self.max_iter = max_iter
        self.tol = tol
        self.label_weight = label_weight
        self.warm_start = warm_start
        self.smoothing = smoothing

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> "FellegiSunter":
        X = np.asarray(X)
        n_levels = X.max(axis=0).clip(min=0) + 1
        if self.warm_start and hasattr(self, "m_"):
            n_levels = np.maximum(n_levels, [len(m) for m in self.m_])
            m = [self._pad(p, k) for p, k in zip(self.m_, n_levels)]
            u = [self._pad(p, k) for p, k in zip(self.u_, n_levels)]
            prior = self.prior_
        else:
            m, u, prior = self._initial_parameters(X, n_levels)
        labels = np.full(len(X), np.nan) if y is None else np.asarray(y, dtype=float)
        known = ~np.isnan(labels)
        weights = np.where(known, self.label_weight, 1.0)
        one_hot = [X[:, j][:, None] == np.arange(k)[None, :] for j, k in enumerate(n_levels)]

        self.classes_ = np.array([0, 1])
        previous = -np.inf
        for iteration in range(1, self.max_iter + 1):
            log_odds = self._log_odds(X, m, u, prior)
            responsibility = 1.0 / (1.0 + np.exp(-log_odds))
            responsibility[known] = labels[known]
            w_match, w_non = weights * responsibility, weights * (1.0 - responsibility)
            prior = (
                float(w_match[~known].sum() / max((~known).sum(), 1))
                if (~known).any()
                else float(w_match.sum() / weights.sum())
            )
            prior = float(np.clip(prior, 1e-6, 1 - 1e-6))
            m = [self._normalise(w_match @ oh) for oh in one_hot]
            u = [self._normalise(w_non @ oh) for oh in one_hot]
            change = abs(prior - previous)
            previous = prior
            if change < self.tol:
                break
        self.m_, self.u_, self.prior_ = m, u, prior
        self.n_levels_ = n_levels
        self.n_iter_ = iteration
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "m_")
        p = 1.0 / (1.0 + np.exp(-self._log_odds(np.asarray(X), self.m_, self.u_, self.prior_)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def match_weights(self, X: np.ndarray) -> np.ndarray:
        """log2(m/u) of each pair's level per column: how much each column moved the odds."""
        check_is_fitted(self, "m_")
        return self._log_ratios(np.asarray(X), self.m_, self.u_) / np.log(2.0)

    def _log_odds(self, X: np.ndarray, m, u, prior: float) -> np.ndarray:
        return np.log(prior / (1.0 - prior)) + self._log_ratios(X, m, u).sum(axis=1)

    @staticmethod
    def _log_ratios(X: np.ndarray, m, u) -> np.ndarray:
        """ln(m/u) of each pair's level per column; 0 where the level is missing (no evidence)."""
        out = np.zeros(X.shape, dtype=np.float64)
        for j, (mj, uj) in enumerate(zip(m, u)):
            table = np.log(mj / uj)
            level = X[:, j]
            present = (level >= 0) & (level < len(table))
            out[present, j] = table[level[present]]
        return out

    def _initial_parameters(self, X: np.ndarray, n_levels: np.ndarray):
        """u from the level frequencies of all candidate pairs (nearly all are non-matches);
        m leaning to agreement; a prior of one match per hundred candidate pairs."""
        m, u = [], []
        for j, k in enumerate(n_levels):
            counts = np.bincount(X[:, j][X[:, j] >= 0], minlength=k).astype(float)
            u.append(self._normalise(counts))
            m.append(self._normalise(0.5 ** np.arange(k) * 4.0))
        return m, u, 0.01

    def _normalise(self, counts: np.ndarray) -> np.ndarray:
        counts = counts + self.smoothing * max(counts.sum(), 1.0) / len(counts)
        return counts / counts.sum()

    @staticmethod
    def _pad(p: np.ndarray, k: int) -> np.ndarray:
        return np.concatenate([p, np.full(k - len(p), 1e-6)]) if len(p) < k else p


class ReweightedFellegiSunter(ClassifierMixin, BaseEstimator):
    """Fellegi–Sunter by EM, then a logistic regression that re-weights its per-comparison evidence.

    EM's weights assume comparisons independent given the match status; real errors are not
    (a re-typed record tends to have several typos). The second stage learns one scale per
    comparison (plus missing-value offsets) from EM's own confident decisions — the bootstrap
    that works with zero labels — and from human feedback, which counts ``label_weight`` times.
    With a handful of parameters, a few hundred labels are enough to move it, and a retrain
    starts from the previous EM parameters and coefficients (``warm_start``).
    """

    def __init__(
        self,
        confidence: float = 0.99,
        label_weight: float = 5.0,
        C: float = 1.0,
        warm_start: bool = False,
    ):
        self.confidence = confidence
        self.label_weight = label_weight
        self.C = C
        self.warm_start = warm_start

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> "ReweightedFellegiSunter":
        X = np.asarray(X)
        warm = self.warm_start and hasattr(self, "fellegi_sunter_")
        if not warm:
            self.fellegi_sunter_ = FellegiSunter()
            self.reweighting_ = LogisticRegression(C=self.C, max_iter=1000, warm_start=True)
        self.fellegi_sunter_.set_params(warm_start=warm)
        self.fellegi_sunter_.fit(X, y)

        target = np.full(len(X), np.nan)
        p = self.fellegi_sunter_.predict_proba(X)[:, 1]
        target[p >= self.confidence] = 1.0
        target[p <= 1.0 - self.confidence] = 0.0
        weight = np.ones(len(X))
        if y is not None:
            labelled = ~np.isnan(np.asarray(y, dtype=float))
            target[labelled] = np.asarray(y, dtype=float)[labelled]
            weight[labelled] = self.label_weight
        usable = ~np.isnan(target)
        self.classes_ = np.array([0, 1])
        self.reweighted_ = len(np.unique(target[usable])) == 2
        if self.reweighted_:  # otherwise (tiny or one-sided data) EM's probabilities stand
            self.reweighting_.fit(
                self._design(X)[usable], target[usable], sample_weight=weight[usable]
            )
        return self

    @property
    def prior_(self) -> float:
        return self.fellegi_sunter_.prior_

    @property
    def n_iter_(self) -> int:
        return self.fellegi_sunter_.n_iter_

    def _design(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([self.fellegi_sunter_.match_weights(X), X < 0])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "fellegi_sunter_")
        X = np.asarray(X)
        if not self.reweighted_:
            return self.fellegi_sunter_.predict_proba(X)
        return self.reweighting_.predict_proba(self._design(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def match_weights(self, X: np.ndarray) -> np.ndarray:
        """Each comparison's contribution to the final log2-odds (EM weight × learnt scale)."""
        weights = self.fellegi_sunter_.match_weights(np.asarray(X))
        if not self.reweighted_:
            return weights
        return weights * self.reweighting_.coef_[0, : weights.shape[1]]


def build_model(
    columns: Mapping[str, str], groups: Mapping[str, list[str]] | None = None, **classifier_params
) -> Pipeline:
    """The match model for a schema: comparison levels, then re-weighted Fellegi–Sunter."""
    return Pipeline(
        [
            ("levels", ComparisonLevels(columns, groups)),
            ("classifier", ReweightedFellegiSunter(**classifier_params)),
        ]
    )


def training_labels(features: pd.DataFrame, feedback: pd.DataFrame | None) -> np.ndarray:
    """Per feature row: the reviewed label (1/0) where a person gave one, NaN elsewhere."""
    labels = np.full(len(features), np.nan)
    if feedback is None or feedback.empty:
        return labels
    keyed = features[["source_id", "target_id"]].merge(
        feedback[["source_id", "target_id", "label"]], on=["source_id", "target_id"], how="left"
    )
    return keyed["label"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def explain(model: Pipeline, features: pd.DataFrame, *, top: int = 3) -> pd.Series:
    """The columns that moved each pair's odds most, e.g. 'soc_sec_id exact +11.8'."""
    levels_step, classifier = model.named_steps["levels"], model.named_steps["classifier"]
    levels = levels_step.transform(features)
    weights = classifier.match_weights(levels)
    names = levels_step.level_names()
    columns = levels_step.columns_
    order = np.argsort(-np.abs(weights), axis=1)[:, :top]
    texts = []
    for row, picks in enumerate(order):
        parts = []
        for j in picks:
            level = levels[row, j]
            if level < 0 or weights[row, j] == 0:
                continue
            label = names[j][min(level, len(names[j]) - 1)]
            parts.append(f"{columns[j]} {label} {weights[row, j]:+.1f}")
        texts.append("; ".join(parts))
    return pd.Series(texts, index=features.index, dtype="string")
