"""Content features of movies for the movie towers: genres, release-year bucket, title words.

Built in numpy, not with Keras preprocessing layers, so the serving process (numpy only) and
training share one definition and a fitted vocabulary pickles with the model. The matrix is
dense: a catalogue of thousands of movies × a few hundred features is small, and a dense
`features @ weights` is the whole forward pass of the feature part of a tower.

Columns, each block scaled so that no block dominates by its width:
- genres: multi-hot over `GENRES`, divided by √(genres of the movie) (a 4-genre movie is not
  four times as "much" movie);
- year: one-hot bucket (`YEAR_EDGES`), plus a column for "year unknown";
- title: bag of words over the `max_title_words` words found in at least `min_title_count`
  titles (year and punctuation removed), divided by √(known words in the title). Words seen
  once cannot generalise; a shared word ("Star", "Wars") can tie sequels and series together.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.recommender.movielens import GENRES

# Decade-ish buckets, finer where ML-100K's films are (the 1990s).
YEAR_EDGES = (1940, 1960, 1970, 1980, 1990, 1993, 1995, 1996, 1997, 1998)
_WORD = re.compile(r"[a-z0-9']+")
_YEAR_SUFFIX = re.compile(r"\(\d{4}(?:[-–]\d{4})?\)\s*$")


def title_words(title: str) -> list[str]:
    """Lower-case words of a title without its '(1995)' suffix."""
    return _WORD.findall(_YEAR_SUFFIX.sub("", title).lower())


@dataclass(frozen=True)
class MovieFeatures:
    """A fitted vocabulary and the feature matrix of a catalogue, rows in `movie_ids` order."""

    movie_ids: np.ndarray
    matrix: np.ndarray  # (len(movie_ids), len(names)) float32
    names: tuple[str, ...]
    vocabulary: tuple[str, ...]

    def rows(self, movie_ids: np.ndarray) -> np.ndarray:
        """Feature rows for `movie_ids`; a KeyError names ids outside the catalogue."""
        index = pd.Index(self.movie_ids).get_indexer(np.asarray(movie_ids))
        if (index < 0).any():
            raise KeyError(f"movies {np.asarray(movie_ids)[index < 0][:5].tolist()} unknown")
        return self.matrix[index]


def build_movie_features(
    movies: pd.DataFrame, *, max_title_words: int = 500, min_title_count: int = 2
) -> MovieFeatures:
    """Features of every movie in `movies` (`movie_id, title, year, genres`)."""
    genre_flags = np.array(
        [[genre in set(listed.split("|")) for genre in GENRES] for listed in movies["genres"]],
        dtype=np.float32,
    )
    genre_block = genre_flags / np.sqrt(np.maximum(genre_flags.sum(axis=1, keepdims=True), 1))

    years = movies["year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    bucket = np.searchsorted(np.array(YEAR_EDGES), np.nan_to_num(years), side="right")
    year_block = np.zeros((len(movies), len(YEAR_EDGES) + 2), dtype=np.float32)
    year_block[np.arange(len(movies)), np.where(np.isnan(years), len(YEAR_EDGES) + 1, bucket)] = 1

    words = [title_words(title) for title in movies["title"]]
    counts = pd.Series([word for title in words for word in set(title)]).value_counts()
    vocabulary = tuple(counts[counts >= min_title_count].index[:max_title_words])
    position = {word: column for column, word in enumerate(vocabulary)}
    title_block = np.zeros((len(movies), len(vocabulary)), dtype=np.float32)
    for row, title in enumerate(words):
        for word in title:
            if word in position:
                title_block[row, position[word]] = 1.0
    title_block /= np.sqrt(np.maximum(title_block.sum(axis=1, keepdims=True), 1))

    year_names = [f"year<{YEAR_EDGES[0]}"]
    year_names += [f"year>={low}" for low in YEAR_EDGES] + ["year_unknown"]
    return MovieFeatures(
        movie_ids=movies["movie_id"].to_numpy(dtype=np.int64),
        matrix=np.hstack([genre_block, year_block, title_block]).astype(np.float32),
        names=(
            *(f"genre={g}" for g in GENRES),
            *year_names,
            *(f"title={w}" for w in vocabulary),
        ),
        vocabulary=vocabulary,
    )
