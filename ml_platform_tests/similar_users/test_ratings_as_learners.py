"""MovieLens ratings as the four learner tables, checked on ratings small enough to follow."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.recommender.movielens import MovieLensDataset
from ml_platform.similar_users.learners import load_learners, write_learners
from ml_platform.similar_users.ratings_as_learners import learners_from_ratings, slug

DAY = 86_400


def dataset() -> MovieLensDataset:
    movies = pd.DataFrame(
        {
            "movie_id": [1, 2, 3, 4],
            "title": ["Toy Story (1995)", "Alien (1979)", "Alien (1979)", "Mystery Film (1990)"],
            "year": [1995, 1979, 1979, 1990],
            "genres": ["Animation|Children's", "Sci-Fi|Horror", "Sci-Fi", ""],
        }
    )
    rows = [(1, 2, 5.0, 0), (1, 3, 4.0, DAY), (1, 1, 2.0, 2 * DAY), (2, 1, 5.0, 0),
            (2, 4, 1.0, DAY)]  # fmt: skip
    ratings = pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])
    return MovieLensDataset(ratings, movies)


def test_a_movie_is_a_course_named_by_its_titles_slug_and_tagged_with_its_genres():
    tables = learners_from_ratings(dataset())

    tags = tables.course_tags.groupby("course_id")["course_tags"].agg(sorted).to_dict()
    assert tags == {
        "toy-story-1995": ["animation", "childrens"],
        "alien-1979": ["horror", "sci-fi"],
        "alien-1979-3": ["sci-fi"],  # a repeated title keeps its own id
        "mystery-film-1990": [""],  # no genre: an untagged course
    }
    assert slug("Se7en (1995)") == "se7en-1995"


def test_every_rating_is_a_view_or_only_likes_are_with_time_spent_growing_with_the_rating():
    every = learners_from_ratings(dataset(), "ratings").user_course_views
    likes = learners_from_ratings(dataset(), "likes").user_course_views

    assert len(every) == 5
    assert sorted(likes["course_id"]) == ["alien-1979", "alien-1979-3", "toy-story-1995"]
    seconds = every.set_index(["user_handle", "course_id"])["view_time_seconds"]
    assert seconds[("1", "alien-1979")] == 6_000 > seconds[("1", "toy-story-1995")] == 2_400


def test_users_follow_the_genres_they_like_more_than_others_do():
    interests = learners_from_ratings(dataset()).user_interests

    # user 1 liked sci-fi twice (movies 2 and 3); one like of horror is not enough
    assert interests.loc[interests["user_handle"] == "1", "interest_tag"].tolist() == ["sci-fi"]
    assert interests.loc[interests["user_handle"] == "2"].empty  # a single like per genre


def test_an_assessment_is_the_mean_rating_of_a_genre_rated_five_times_on_the_0_300_scale():
    movies = dataset().movies
    ratings = pd.DataFrame(
        {"user_id": 7, "movie_id": [2, 3, 2, 3, 2], "rating": [5.0, 4.0, 3.0, 5.0, 3.0],
         "timestamp": [0, DAY, 2 * DAY, 3 * DAY, 4 * DAY]}
    )  # fmt: skip
    scores = learners_from_ratings(MovieLensDataset(ratings, movies)).user_assessment_scores

    assert scores[["assessment_tag", "user_assessment_score"]].to_dict("records") == [
        {"assessment_tag": "sci-fi", "user_assessment_score": 225.0}  # mean 4.0 → 3/4 of 300
    ]  # horror: rated three times only
    assert scores["user_assessment_date"].iloc[0] == pd.Timestamp(4 * DAY, unit="s", tz="UTC")


def test_the_tables_write_and_load_as_the_public_csvs(tmp_path):
    tables = learners_from_ratings(dataset(), "likes")
    write_learners(tmp_path, tables)
    loaded = load_learners(tmp_path)
    assert len(loaded.user_course_views) == 3 and set(loaded.users()) == {"1", "2"}


def test_an_unknown_mapping_is_an_error_naming_the_choices():
    with pytest.raises(InvalidInputError, match=r"'stars' is not one of \['ratings', 'likes'\]"):
        learners_from_ratings(dataset(), "stars")
