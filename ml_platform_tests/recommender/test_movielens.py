import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.demo_data.movielens import generate_movielens
from ml_platform.recommender.movielens import (
    load_movielens,
    load_movies,
    load_ratings,
    validate_ratings_against_movies,
    write_movielens,
)


@pytest.mark.parametrize("layout", ["ml-latest", "ml-100k"])
def test_written_data_loads_back_unchanged_in_either_layout(tmp_path, layout):
    dataset = generate_movielens(50, 80, 1_500, seed=3)

    write_movielens(tmp_path, dataset, layout=layout)
    loaded = load_movielens(tmp_path)

    pd.testing.assert_frame_equal(loaded.ratings, dataset.ratings)
    pd.testing.assert_frame_equal(loaded.movies, dataset.movies)


def test_half_star_ratings_and_titles_with_commas_load_from_the_csv_layout(tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3.5,964982703\n")
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n2,"American President, The (1995)",Comedy|Drama|Romance\n'
        "3,Untitled,(no genres listed)\n"
    )

    ratings = load_ratings(tmp_path / "ratings.csv")
    movies = load_movies(tmp_path / "movies.csv")

    assert ratings.iloc[0].tolist() == [1, 2, 3.5, 964982703]
    assert movies["year"].tolist() == [1995, pd.NA]
    assert movies["genres"].tolist() == ["Comedy|Drama|Romance", ""]


def test_u_item_genre_flags_become_genre_names(tmp_path):
    flags = "|".join(["0"] * 3 + ["1", "1"] + ["0"] * 14)
    line = f"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/x|{flags}\n"
    (tmp_path / "u.item").write_bytes(line.encode("latin-1"))

    movies = load_movies(tmp_path / "u.item")

    assert movies.iloc[0].tolist() == [1, "Toy Story (1995)", 1995, "Animation|Children's"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("ratings.csv", "userId,movieId,timestamp\n1,2,3\n", "['rating'] are missing"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,x,4,5\n", "line 2: column 'movieId'"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,2,4,5\n1,3,6,5\n", "line 3"),
        ("u.data", "1\t2\t4\t5\n1\t2\t3\t6\n", "line 2: user 1 rates movie 2 again"),
        ("u.data", "1\t2\t0\t5\n", "line 1: column 'rating' is 0.0"),
        ("u.data", "a\t2\t4\t5\n", "column 'user id' is 'a', expected an integer"),
    ],
)
def test_bad_ratings_files_name_the_file_line_and_column(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)

    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_ratings(tmp_path / name)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match="movies.csv: file not found"):
        load_movies(tmp_path / "movies.csv")


def test_a_rating_of_a_movie_missing_from_the_catalogue_is_an_error():
    ratings = pd.DataFrame({"user_id": [1, 1], "movie_id": [1, 9], "rating": [4.0, 3.0]})
    movies = pd.DataFrame({"movie_id": [1, 2]})

    with pytest.raises(InvalidInputError, match=r"1 rating\(s\) name 1 movie id\(s\).*\[9\]"):
        validate_ratings_against_movies(ratings, movies)
