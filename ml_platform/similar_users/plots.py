"""The 2-D picture of user vectors the `user_embeddings` asset records: a PCA projection,
each user coloured by their top interest, so a glance shows whether interests form regions."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COLOURED = 10  # the most common top interests get a colour; the rest are grey


def top_interests(user_interests: pd.DataFrame, handles: np.ndarray) -> np.ndarray:
    """Per user, the interest they follow that most users follow ('' without interests): the
    broad topic that sums them up, rather than their most specific tag."""
    followers = user_interests.groupby("interest_tag")["user_handle"].nunique()
    ranked = user_interests.assign(followers=user_interests["interest_tag"].map(followers))
    ranked = ranked.sort_values(["followers", "interest_tag"], ascending=[False, True])
    top = ranked.drop_duplicates("user_handle").set_index("user_handle")["interest_tag"]
    return top.reindex(pd.Index(handles).astype("str")).fillna("").astype("str").to_numpy()


def projection_plot(
    vectors: np.ndarray, labels: np.ndarray, sample: int = 3_000, seed: int = 0
) -> "Figure":
    """Users on the first two principal components (a seeded sample of `sample` at most)."""
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    rows = np.arange(len(vectors))
    if len(rows) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=sample, replace=False))
    points = PCA(n_components=2, random_state=seed).fit_transform(vectors[rows])
    chosen = labels[rows]
    counts = pd.Series(chosen[chosen != ""]).value_counts()
    figure = Figure(figsize=(6.5, 5))
    axes = figure.subplots()
    common = set(counts.index[:_COLOURED])
    other = np.array([label not in common for label in chosen])
    axes.scatter(*points[other].T, s=4, color="lightgrey", label="other / none")
    colours = iter(_palette())
    for label in counts.index[:_COLOURED]:
        mask = chosen == label
        axes.scatter(*points[mask].T, s=5, color=next(colours), label=label)
    axes.set_xlabel("first principal component")
    axes.set_ylabel("second principal component")
    axes.set_title(f"User vectors ({len(rows)} users) by top interest")
    axes.legend(fontsize=7, markerscale=3, loc="best")
    return figure


def _palette() -> list[str]:
    return [f"tab:{c}" for c in ("blue", "orange", "green", "red", "purple", "brown", "pink",
                                 "olive", "cyan", "gray")]  # fmt: skip
