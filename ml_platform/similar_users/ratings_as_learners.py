"""Real behaviour for similar users: MovieLens ratings laid out as the four learner tables.

The Pluralsight tables the product was designed on may not be redistributed, so real behaviour
to judge it on comes from MovieLens (943 users, 1,682 movies, 100,000 ratings in ml-100k: long
tails, heavy and light users, nothing planted). The mapping, and why:

- a movie is a course: its `course_id` is the slug of its title (`toy-story-1995`), as the
  learning site's ids are slugs of words (a repeated title gets `-<movie_id>` appended), and
  its genres are its `course_tags` (`sci-fi`, `childrens`; a movie without a genre is untagged);
- a rating is a view (mapping `ratings`: all 100,000 of them, as the issue measured) or only a
  rating of 4 or 5 is (mapping `likes`: behaviour people chose to repeat, a sparser, different
  signal), on the rating's day, with `view_time_seconds` = rating × 20 minutes: how much a
  person got out of a course is what time spent stands for;
- a user follows (`user_interests`) the genres they like more than people do: the up to three
  genres with the highest lift (their share of the user's 4–5 ratings over their share of
  everyone's), each carried by at least two of those likes, followed on the day of the first;
- a user is assessed (`user_assessment_scores`) on every genre they rated at least five movies
  of: the mean rating mapped from 1–5 onto the 0–300 scale, dated at the last of them.

Interests and assessments are derived from the same ratings, so they add little that views do
not say; views carry the signal, as they do on the learning site (most rows are views).
"""

import re
from typing import Protocol

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.similar_users.learners import MAX_SCORE, LearnerTables

MAPPINGS = ("ratings", "likes")
LIKED = 4.0  # ratings from here up are likes
SECONDS_PER_STAR = 1_200
MAX_INTERESTS = 3
MIN_LIKES_FOR_INTEREST = 2
MIN_RATINGS_FOR_ASSESSMENT = 5
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


class Ratings(Protocol):
    """MovieLens ratings and movies in `recommender.movielens`' shape (its `MovieLensDataset`),
    stated here because a product never imports another: benchmarks load the data and pass it."""

    ratings: pd.DataFrame
    movies: pd.DataFrame


def slug(text: str) -> str:
    """Lower case, apostrophes dropped, any other run of non-alphanumerics one hyphen."""
    return _NOT_A_WORD.sub("-", text.lower().replace("'", "")).strip("-")


def course_ids(movies: pd.DataFrame) -> pd.Series:
    """Movie id → course id (the title's slug, `-<movie_id>` appended from its second use)."""
    slugs = movies["title"].astype(str).map(slug)
    repeated = slugs.duplicated(keep="first") | (slugs == "")
    ids = slugs.where(~repeated, slugs + "-" + movies["movie_id"].astype(str)).str.strip("-")
    return pd.Series(ids.to_numpy(), index=movies["movie_id"].to_numpy())


def learners_from_ratings(dataset: Ratings, mapping: str = "ratings") -> LearnerTables:
    """The four learner tables from MovieLens ratings and movies (see the module docstring)."""
    if mapping not in MAPPINGS:
        raise InvalidInputError(f"mapping '{mapping}' is not one of {list(MAPPINGS)}")
    ratings, movies = dataset.ratings, dataset.movies
    course = course_ids(movies)
    genres = movies.assign(course_id=course.to_numpy(), genre=movies["genres"].str.split("|"))
    genres = genres.explode("genre")
    genres["genre"] = genres["genre"].fillna("").map(slug)
    genres.loc[genres["genre"] == "unknown", "genre"] = ""
    course_tags = (
        genres[["course_id", "genre"]]
        .rename(columns={"genre": "course_tags"})
        .drop_duplicates(ignore_index=True)
    )
    tagged = course_tags.loc[course_tags["course_tags"] != ""]
    untagged = course_tags.loc[~course_tags["course_id"].isin(tagged["course_id"])]
    course_tags = pd.concat([tagged, untagged.drop_duplicates("course_id")], ignore_index=True)

    rated = pd.DataFrame(
        {
            "user_handle": ratings["user_id"].astype(str).to_numpy(),
            "course_id": course.reindex(ratings["movie_id"]).to_numpy(),
            "movie_id": ratings["movie_id"].to_numpy(),
            "rating": ratings["rating"].astype(float).to_numpy(),
            "date": pd.to_datetime(ratings["timestamp"], unit="s", utc=True).to_numpy(),
        }
    )
    viewed = rated if mapping == "ratings" else rated.loc[rated["rating"] >= LIKED]
    views = pd.DataFrame(
        {
            "user_handle": viewed["user_handle"],
            "view_date": viewed["date"].dt.normalize(),
            "course_id": viewed["course_id"],
            "author_handle": "",
            "level": "",
            "view_time_seconds": np.round(viewed["rating"] * SECONDS_PER_STAR).astype("int64"),
        }
    ).sort_values(["user_handle", "view_date"], kind="stable", ignore_index=True)

    by_genre = rated.merge(
        genres.loc[genres["genre"] != "", ["movie_id", "genre"]], on="movie_id", how="inner"
    )
    return LearnerTables(
        course_tags=course_tags.astype(str),
        user_assessment_scores=_assessments(by_genre),
        user_course_views=views,
        user_interests=_interests(by_genre),
    )


def _interests(by_genre: pd.DataFrame) -> pd.DataFrame:
    likes = by_genre.loc[by_genre["rating"] >= LIKED]
    site_share = likes["genre"].value_counts(normalize=True)
    per_user = likes.groupby(["user_handle", "genre"]).agg(
        likes=("rating", "size"), date_followed=("date", "min")
    )
    per_user = per_user.reset_index()
    user_likes = per_user.groupby("user_handle")["likes"].transform("sum")
    per_user["lift"] = (
        per_user["likes"] / user_likes / site_share.reindex(per_user["genre"]).to_numpy()
    )
    chosen = (
        per_user.loc[per_user["likes"] >= MIN_LIKES_FOR_INTEREST]
        .sort_values(["user_handle", "lift", "genre"], ascending=[True, False, True])
        .groupby("user_handle")
        .head(MAX_INTERESTS)
    )
    return (
        chosen.rename(columns={"genre": "interest_tag"})[
            ["user_handle", "interest_tag", "date_followed"]
        ]
        .sort_values(["user_handle", "date_followed"], kind="stable", ignore_index=True)
        .astype({"user_handle": str, "interest_tag": str})
    )


def _assessments(by_genre: pd.DataFrame) -> pd.DataFrame:
    per_user = by_genre.groupby(["user_handle", "genre"]).agg(
        ratings=("rating", "size"), mean=("rating", "mean"), date=("date", "max")
    )
    per_user = per_user.loc[per_user["ratings"] >= MIN_RATINGS_FOR_ASSESSMENT].reset_index()
    return pd.DataFrame(
        {
            "user_handle": per_user["user_handle"].astype(str),
            "assessment_tag": per_user["genre"].astype(str),
            "user_assessment_date": per_user["date"],
            "user_assessment_score": np.round((per_user["mean"] - 1.0) / 4.0 * MAX_SCORE),
        }
    ).sort_values(["user_handle", "user_assessment_date"], kind="stable", ignore_index=True)
