import pandas as pd
import pytest

from ml_platform.demo_data.movielens import ML_100K_STATS, describe_ratings, generate_movielens


@pytest.fixture(scope="module")
def dataset():
    return generate_movielens()


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    first = generate_movielens(200, 300, 8_000, seed=1)
    again = generate_movielens(200, 300, 8_000, seed=1)
    other = generate_movielens(200, 300, 8_000, seed=2)

    pd.testing.assert_frame_equal(first.ratings, again.ratings)
    assert not first.ratings.equals(other.ratings)


def test_generated_data_has_the_shape_and_statistics_of_movielens_100k(dataset):
    stats = describe_ratings(dataset.ratings)

    assert stats["users"] == 943 and stats["ratings"] == 100_000
    assert stats["user_ratings_min"] >= 20
    assert stats["user_ratings_median"] == pytest.approx(65, rel=0.15)
    assert stats["user_ratings_max"] == pytest.approx(737, rel=0.15)
    assert stats["movie_ratings_median"] == pytest.approx(27, rel=0.3)
    assert stats["top_10pct_movies_share"] == pytest.approx(0.43, abs=0.04)
    for star in range(1, 6):
        assert stats[f"share_{star}"] == pytest.approx(ML_100K_STATS[f"share_{star}"], abs=0.005)
    assert not dataset.ratings.duplicated(["user_id", "movie_id"]).any()


def test_generated_movies_have_years_in_titles_and_known_genres(dataset):
    movies = dataset.movies

    assert len(movies) == 1682
    assert (movies["title"].str.extract(r"\((\d{4})\)$")[0].astype(int) == movies["year"]).all()
    assert movies["genres"].str.split("|").str.len().mean() == pytest.approx(1.7, abs=0.2)
    assert (
        movies["genres"].str.contains("Drama").mean()
        > movies["genres"].str.contains("Western").mean()
    )
