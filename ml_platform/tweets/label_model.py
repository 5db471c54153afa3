"""A probabilistic label model over the labelling functions' votes: Dawid–Skene EM.

Dawid & Skene (1979) treat each labelling function as an annotator with its own confusion
matrix P(vote | true class) over {abstain, NOT_AI, AI}, independent given the class. EM
alternates the posterior of each tweet's class given its votes (E) with the class prior and the
confusion matrices re-estimated from those posteriors (M). Unlike majority vote it learns that
some functions are more accurate than others, and that a function *abstaining* is evidence too
(a tweet no AI rule fires on is probably not about AI). Snorkel's label model solves the same
problem from the votes' agreement matrix; this runs without torch.
"""

from dataclasses import dataclass, field

import numpy as np

from ml_platform.tweets.labelling_functions import ABSTAIN, AI, majority_vote

_OUTCOMES = 3  # index 0 = abstain, 1 = NOT_AI, 2 = AI


@dataclass
class DawidSkene:
    """`fit(votes)` then `predict_proba(votes)` → P(AI) per tweet."""

    max_iterations: int = 100
    tolerance: float = 1e-6
    smoothing: float = 1.0  # Laplace pseudo-counts per confusion cell: no zero probabilities
    class_prior: np.ndarray = field(default_factory=lambda: np.array([0.5, 0.5]))
    confusion: np.ndarray | None = None  # functions × classes × outcomes
    iterations: int = 0

    def fit(self, votes: np.ndarray) -> "DawidSkene":
        outcomes = _one_hot(votes)
        # Start from majority vote (ties and abstains split evenly): it fixes which class is
        # which, the usual way to keep EM away from the label-swapped optimum.
        mv = majority_vote(votes)
        posterior = np.where(mv == AI, 0.9, np.where(mv == ABSTAIN, 0.5, 0.1))
        previous = -np.inf
        for iteration in range(1, self.max_iterations + 1):
            self._m_step(outcomes, posterior)
            posterior, log_likelihood = self._e_step(outcomes)
            self.iterations = iteration
            if abs(log_likelihood - previous) < self.tolerance * max(1.0, abs(log_likelihood)):
                break
            previous = log_likelihood
        return self

    def predict_proba(self, votes: np.ndarray) -> np.ndarray:
        if self.confusion is None:
            raise RuntimeError("fit the label model first")
        return self._e_step(_one_hot(votes))[0]

    def accuracies(self) -> np.ndarray:
        """Per function, P(its vote is right | it voted), under the fitted model."""
        assert self.confusion is not None
        joint = self.confusion * self.class_prior[None, :, None]  # f × class × outcome
        right = joint[:, 0, 1] + joint[:, 1, 2]
        voted = joint[:, :, 1:].sum(axis=(1, 2))
        return right / voted

    def _m_step(self, outcomes: np.ndarray, posterior: np.ndarray) -> None:
        weights = np.column_stack([1 - posterior, posterior])  # tweets × classes
        counts = np.einsum("ic,ifo->fco", weights, outcomes) + self.smoothing
        self.confusion = counts / counts.sum(axis=2, keepdims=True)
        self.class_prior = (weights.sum(axis=0) + 1) / (len(posterior) + 2)

    def _e_step(self, outcomes: np.ndarray) -> tuple[np.ndarray, float]:
        assert self.confusion is not None
        log_confusion = np.log(self.confusion)  # f × c × o
        log_joint = np.log(self.class_prior)[None, :] + np.einsum(
            "ifo,fco->ic", outcomes, log_confusion
        )
        top = log_joint.max(axis=1, keepdims=True)
        log_evidence = top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))
        posterior = np.exp(log_joint[:, 1] - log_evidence)
        return posterior, float(log_evidence.sum())


def _one_hot(votes: np.ndarray) -> np.ndarray:
    """tweets × functions × {abstain, NOT_AI, AI} indicators."""
    index = np.asarray(votes, dtype=np.int64) + 1
    return np.eye(_OUTCOMES, dtype=np.float64)[index]
