"""A calibrated, seeded MovieLens generator: ratings and movies in `recommender.movielens`' shape.

It exists because MovieLens may not be redistributed: tests, demos and benchmarks need data of the
same size and statistics (`ML_100K_STATS`) with learnable structure.
"""

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.recommender.movielens import GENRES, MovieLensDataset

# Real MovieLens 100K, as the generator's calibration targets (see `describe_ratings`).
ML_100K_STATS = {
    "users": 943, "movies": 1682, "ratings": 100_000,
    "user_ratings_min": 20, "user_ratings_median": 65, "user_ratings_max": 737,
    "movie_ratings_median": 27, "movie_ratings_max": 583, "top_10pct_movies_share": 0.43,
    "share_1": 0.061, "share_2": 0.114, "share_3": 0.271, "share_4": 0.342, "share_5": 0.212,
    "mean_rating": 3.53,
}  # fmt: skip


# --- statistics ---------------------------------------------------------------------------


def describe_ratings(ratings: pd.DataFrame) -> dict[str, float]:
    """The statistics `ML_100K_STATS` holds, for a side-by-side check of generated data."""
    per_user = ratings.groupby("user_id").size()
    per_movie = ratings.groupby("movie_id").size().sort_values(ascending=False)
    top = max(1, round(len(per_movie) * 0.1))
    stars = ratings["rating"].round().clip(1, 5).value_counts(normalize=True)
    return {
        "users": per_user.size,
        "movies": per_movie.size,
        "ratings": len(ratings),
        "user_ratings_min": int(per_user.min()),
        "user_ratings_median": float(per_user.median()),
        "user_ratings_max": int(per_user.max()),
        "movie_ratings_median": float(per_movie.median()),
        "movie_ratings_max": int(per_movie.max()),
        "top_10pct_movies_share": float(per_movie.iloc[:top].sum() / len(ratings)),
        **{f"share_{star}": float(stars.get(float(star), 0.0)) for star in range(1, 6)},
        "mean_rating": float(ratings["rating"].mean()),
    }


# --- generator ---------------------------------------------------------------------------

# Movies per genre in ML-100K (the 'unknown' genre is left to the rare untagged movie).
_GENRE_COUNTS = {
    "Action": 251, "Adventure": 135, "Animation": 42, "Children's": 122, "Comedy": 505,
    "Crime": 109, "Documentary": 50, "Drama": 725, "Fantasy": 22, "Film-Noir": 24,
    "Horror": 92, "Musical": 56, "Mystery": 61, "Romance": 247, "Sci-Fi": 101,
    "Thriller": 251, "War": 71, "Western": 27,
}  # fmt: skip
_GENRES_PER_MOVIE = (0.50, 0.34, 0.13, 0.03)  # 1..4 genres: ML-100K averages 1.7
# Release years: ML-100K is mostly 1990s films with a long tail back to the 1920s.
_YEARS = (
    (1998, 1998, 0.04), (1997, 1997, 0.17), (1996, 1996, 0.21), (1995, 1995, 0.13),
    (1994, 1994, 0.13), (1993, 1993, 0.075), (1990, 1992, 0.07), (1980, 1989, 0.07),
    (1922, 1979, 0.105),
)  # fmt: skip
_FIRST_TIME, _LAST_TIME = 874_724_710, 893_286_638  # ML-100K's first and last timestamp
_STAR_SHARES = (0.061, 0.114, 0.271, 0.342, 0.212)

# Calibrated so that generated 100K-sized data matches `ML_100K_STATS` and the baselines land
# near the real ones (benchmarks/recommender_baselines.py prints both).
_TASTE_DIM = 8
_USER_ACTIVITY_SIGMA = 1.05  # lognormal spread of ratings per user above the minimum of 20
_MIN_USER_RATINGS = 20
_ACTIVITY_SHIFT = 0.15  # users whose lognormal draw is below it rate exactly the minimum
_POPULARITY_SIGMA = 1.8  # lognormal spread of movie popularity
_POPULARITY_KNEE, _HEAD_SLOPE = 1.9, 0.5  # in standard deviations of log popularity
_SELECTION_TASTE = 1.5  # how much taste, beside popularity, decides which movies a user rates
_USER_BIAS, _MOVIE_BIAS, _RATING_TASTE, _NOISE = 0.40, 0.40, 0.80, 0.85  # latent rating scale
_POPULAR_IS_LIKED = 0.4  # correlation of movie bias with log popularity

_WORDS_A = (
    "Silent",
    "Broken",
    "Last",
    "Dark",
    "Golden",
    "Lost",
    "Wild",
    "Secret",
    "Crimson",
    "Hidden",
    "Little",
    "Big",
    "Lonely",
    "Deadly",
    "Sweet",
    "Endless",
    "Frozen",
    "Burning",
    "Empty",
    "Quiet",
    "Bright",
    "Cold",
    "Forgotten",
    "Midnight",
    "Electric",
    "Strange",
    "Perfect",
    "Dangerous",
    "Blue",
    "Red",
    "White",
    "Black",
    "Final",
    "First",
    "Second",
    "Long",
    "Short",
    "Green",
    "Stolen",
)
_WORDS_B = (
    "River",
    "Heart",
    "City",
    "Night",
    "Dream",
    "Road",
    "House",
    "Game",
    "Story",
    "Man",
    "Woman",
    "Girl",
    "Boy",
    "Summer",
    "Winter",
    "Kiss",
    "Storm",
    "Shadow",
    "Fire",
    "Sky",
    "Island",
    "Train",
    "Letter",
    "Garden",
    "Mirror",
    "Promise",
    "Journey",
    "Truth",
    "Angel",
    "Ghost",
    "Star",
    "Moon",
    "Sun",
    "Ocean",
    "Mountain",
    "Kingdom",
    "War",
    "Party",
    "Wedding",
    "Family",
    "Friend",
    "Stranger",
    "Time",
)


def generate_movielens(
    n_users: int = 943, n_movies: int = 1682, n_ratings: int = 100_000, seed: int = 42
) -> MovieLensDataset:
    """MovieLens-100K-like data with learnable structure.

    Users and movies get taste vectors in a low-dimensional space; a movie's vector is mostly
    the mean of its genres' vectors, so genres carry taste. Which movies a user rates is drawn
    from long-tailed popularity × taste (Gumbel top-k: sampling without replacement), and the
    rating is global + user bias + movie bias + taste match + noise, cut into 1–5 stars at the
    real star shares. So biases explain much, tastes a little more, and noise the rest.
    """
    if n_ratings < _MIN_USER_RATINGS * n_users or n_ratings > n_users * n_movies // 2:
        raise InvalidInputError(
            f"n_ratings={n_ratings} must lie between {_MIN_USER_RATINGS} per user "
            f"({_MIN_USER_RATINGS * n_users}) and half the user × movie matrix"
        )
    rng = np.random.default_rng(seed)
    movies, flags = _movies(rng, n_movies)

    genre_vectors = rng.normal(size=(len(GENRES), _TASTE_DIM))
    per_movie = np.maximum(flags.sum(axis=1, keepdims=True), 1)
    movie_taste = 0.8 * (flags @ genre_vectors) / np.sqrt(per_movie)
    movie_taste += 0.6 * rng.normal(size=(n_movies, _TASTE_DIM))
    user_taste = rng.normal(size=(n_users, _TASTE_DIM))
    match = user_taste @ movie_taste.T
    match /= match.std()

    counts = _user_counts(rng, n_users, n_movies, n_ratings)
    popularity = rng.normal(size=n_movies)
    # Lognormal, with the head flattened above the knee: even blockbusters reach ~60% of users.
    popularity = np.minimum(popularity, _POPULARITY_KNEE) + _HEAD_SLOPE * np.maximum(
        popularity - _POPULARITY_KNEE, 0
    )
    log_popularity = _POPULARITY_SIGMA * popularity
    keys = log_popularity + _SELECTION_TASTE * match + rng.gumbel(size=match.shape)
    ranked = _every_movie_rated(np.argsort(-keys, axis=1), counts)
    users = np.repeat(np.arange(n_users), counts)
    items = ranked[users, _positions_within(counts)]

    movie_bias = _POPULAR_IS_LIKED * popularity
    movie_bias += np.sqrt(1 - _POPULAR_IS_LIKED**2) * rng.normal(size=n_movies)
    latent = (
        _USER_BIAS * rng.normal(size=n_users)[users]
        + _MOVIE_BIAS * movie_bias[items]
        + _RATING_TASTE * match[users, items]
        + _NOISE * rng.normal(size=len(users))
    )
    cuts = np.quantile(latent, np.cumsum(_STAR_SHARES)[:-1])
    stars = 1.0 + np.searchsorted(cuts, latent)

    start = rng.integers(_FIRST_TIME, _LAST_TIME, n_users)
    span = np.minimum(rng.exponential(40 * 86_400, n_users), _LAST_TIME - start)
    timestamps = start[users] + (rng.random(len(users)) * span[users]).astype("int64")
    ratings = pd.DataFrame(
        {
            "user_id": users + 1,
            "movie_id": movies["movie_id"].to_numpy()[items],
            "rating": stars,
            "timestamp": timestamps,
        }
    )
    ratings = ratings.sort_values(["user_id", "timestamp"], kind="stable", ignore_index=True)
    return MovieLensDataset(ratings, movies)


def _movies(rng: np.random.Generator, n_movies: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Titles with years and 1–4 genres drawn at ML-100K's genre frequencies; and genre flags."""
    tagged = list(_GENRE_COUNTS)
    weights = np.array(list(_GENRE_COUNTS.values()), dtype=float)
    keys = np.log(weights) + rng.gumbel(size=(n_movies, len(tagged)))
    order = np.argsort(-keys, axis=1)
    how_many = 1 + rng.choice(len(_GENRES_PER_MOVIE), n_movies, p=_GENRES_PER_MOVIE)
    flags = np.zeros((n_movies, len(GENRES)), dtype=float)
    for rank in range(len(_GENRES_PER_MOVIE)):
        chosen = how_many > rank
        flags[np.flatnonzero(chosen), 1 + order[chosen, rank]] = 1.0
    untagged = rng.random(n_movies) < 0.001  # ML-100K has two movies of genre 'unknown'
    flags[untagged] = 0.0
    flags[untagged, 0] = 1.0

    low, high, share = (np.array(column) for column in zip(*_YEARS, strict=True))
    period = rng.choice(len(_YEARS), n_movies, p=share / share.sum())
    years = rng.integers(low[period], high[period] + 1)
    a = np.array(_WORDS_A)[rng.integers(0, len(_WORDS_A), n_movies)]
    b = np.array(_WORDS_B)[rng.integers(0, len(_WORDS_B), n_movies)]
    b2 = np.array(_WORDS_B)[rng.integers(0, len(_WORDS_B), n_movies)]
    shape = rng.integers(0, 3, n_movies)
    names = np.where(
        shape == 0, "The " + a + " " + b, np.where(shape == 1, a + " " + b, b + " of the " + b2)
    )
    genre_names = np.array(GENRES, dtype=object)
    movies = pd.DataFrame(
        {
            "movie_id": np.arange(1, n_movies + 1),
            "title": pd.Series(names).astype("str") + " (" + pd.Series(years).astype("str") + ")",
            "year": pd.array(years, dtype="Int64"),
            "genres": ["|".join(genre_names[row.astype(bool)]) for row in flags],
        }
    ).astype({"title": "str", "genres": "str"})
    return movies, flags


def _user_counts(
    rng: np.random.Generator, n_users: int, n_movies: int, n_ratings: int
) -> np.ndarray:
    """Ratings per user: at least 20, shifted lognormal above that, summing to `n_ratings` exactly."""
    # Shifted so that some users stop right at the minimum, as in ML-100K.
    extra = np.maximum(np.exp(_USER_ACTIVITY_SIGMA * rng.normal(size=n_users)) - _ACTIVITY_SHIFT, 0)
    spare = n_ratings - _MIN_USER_RATINGS * n_users
    cap = int(0.44 * n_movies) - _MIN_USER_RATINGS  # ML-100K's busiest user rated 44%
    # Scale so that the capped shares sum to `spare` (bisection: the sum grows with the scale),
    # then round down and give the remainder to the largest fractions.
    low, high = 0.0, spare / extra.max() * n_users
    for _ in range(100):
        scale = (low + high) / 2
        low, high = (scale, high) if np.minimum(scale * extra, cap).sum() < spare else (low, scale)
    shares = np.minimum(high * extra, cap)
    counts = np.floor(shares).astype("int64")
    remainder = spare - counts.sum()
    counts[np.argsort(counts - shares, kind="stable")[:remainder]] += 1
    return counts + _MIN_USER_RATINGS


def _every_movie_rated(ranked: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`ranked` (each user's movies, most wanted first; the first `counts` get rated) changed so
    that every movie is rated at least once, as in ML-100K: an unrated movie takes the place of
    the last pick of the user who wants it most, if that pick has other raters."""
    chosen = np.arange(ranked.shape[1])[None, :] < counts[:, None]
    raters = np.bincount(ranked[chosen], minlength=ranked.shape[1])
    position = np.argsort(ranked, axis=1)  # position[user, movie] = rank of movie for user
    for movie in np.flatnonzero(raters == 0):
        for user in np.argsort(position[:, movie] - counts, kind="stable"):
            last = ranked[user, counts[user] - 1]
            if raters[last] > 1:
                where = position[user, movie]
                ranked[user, [counts[user] - 1, where]] = movie, last
                position[user, [movie, last]] = counts[user] - 1, where
                raters[last] -= 1
                raters[movie] += 1
                break
    return ranked


def _positions_within(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for each group, concatenated: [2, 3] -> [0, 1, 0, 1, 2]."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(counts.sum()) - starts
