import subprocess
import sys

import joblib
import numpy as np
import pytest

from ml_platform.recommender.two_stage import TwoStageRecommender


@pytest.fixture(scope="module")
def recommender(trained):
    return TwoStageRecommender(
        trained.retrieval, trained.ranking, trained.train, trained.movies, candidates=100
    )


def test_recommendations_exclude_movies_the_user_rated_and_are_ordered(trained, recommender):
    user = int(trained.train["user_id"].iloc[0])
    rated = set(trained.train.loc[trained.train["user_id"] == user, "movie_id"])

    recommendations = recommender.recommend(user, k=20)

    assert len(recommendations) == 20
    assert not rated & {r.movie_id for r in recommendations}
    ratings = [r.predicted_rating for r in recommendations]
    assert ratings == sorted(ratings, reverse=True)
    assert all(r.title for r in recommendations)


def test_new_user_recommendations_lean_towards_the_genre_they_loved(trained, recommender):
    genres = trained.movies.set_index("movie_id")["genres"]
    comedy = genres[genres.str.contains("Comedy")].index.to_numpy()[:10]
    other = genres[~genres.str.contains("Comedy")].index.to_numpy()[:10]
    loves = {**dict.fromkeys(comedy.tolist(), 5.0), **dict.fromkeys(other.tolist(), 1.0)}
    hates = {**dict.fromkeys(comedy.tolist(), 1.0), **dict.fromkeys(other.tolist(), 5.0)}

    for_lover = [r.movie_id for r in recommender.recommend_for_ratings(loves, k=20)]
    for_hater = [r.movie_id for r in recommender.recommend_for_ratings(hates, k=20)]

    is_comedy = genres.str.contains("Comedy")
    assert not set(for_lover) & set(loves)
    assert is_comedy[for_lover].mean() > is_comedy[for_hater].mean() + 0.3


def test_new_user_path_equals_the_two_stages_computed_one_after_the_other(trained, recommender):
    # the fused tables of the serving path against the stages' own methods
    movie_ids = trained.movies["movie_id"].to_numpy()
    ratings = {int(m): float(1 + i % 5) for i, m in enumerate(movie_ids[::7][:15])}
    retrieval, ranking = trained.retrieval, trained.ranking
    vector = retrieval.embed_new_user(ratings)
    scores = retrieval.score_vectors(vector)[0]
    scores[retrieval.movie_rows(np.array(list(ratings)))] = -np.inf
    candidates = retrieval.movie_ids[np.argsort(-scores, kind="stable")[:100]]
    predicted = ranking.predict_new_user(ratings, candidates, retrieval_vector=vector)
    expected = candidates[np.argsort(-predicted, kind="stable")[:30]]

    found = recommender.recommend_for_ratings(ratings, k=30)

    assert [r.movie_id for r in found] == expected.tolist()
    rows = retrieval.movie_rows(expected)
    assert np.allclose([r.retrieval_score for r in found], scores[rows], atol=1e-5)
    by_movie = dict(zip(candidates.tolist(), predicted.tolist(), strict=True))
    assert np.allclose(
        [r.predicted_rating for r in found], [by_movie[m] for m in expected.tolist()]
    )


def test_unknown_user_is_a_key_error(recommender):
    assert not recommender.has_user(99999)
    with pytest.raises(KeyError):
        recommender.recommend(99999, k=5)


def test_joblib_round_trip_recommends_the_same_in_a_process_without_tensorflow(
    trained, recommender, tmp_path
):
    user = int(trained.train["user_id"].iloc[0])
    path = tmp_path / "recommender.joblib"
    joblib.dump(recommender, path)
    expected = [r.movie_id for r in recommender.recommend(user, k=10)]

    script = (
        "import sys, joblib\n"
        f"model = joblib.load({str(path)!r})\n"
        f"print([r.movie_id for r in model.recommend({user}, k=10)])\n"
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()

    assert output == [str(expected), "False"]
    assert recommender.has_movie(expected[0])
