"""The recommender asset graph: MovieLens ratings → split → retrieval (two-tower) → candidate
index → ranking → the served two-stage model and stored top-k recommendations per user.

Every model asset measures itself on the test split beside the baselines it must beat, in the
same run, and blocking checks keep `recommendations` from using a model that does not."""

from dataclasses import asdict

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.core import artifacts, progress, promotion
from ml_platform.core.vectors import VectorIndex
from ml_platform.recommender import evaluation
from ml_platform.recommender.baselines import GlobalMean, Popularity, tune_bias_baseline
from ml_platform.recommender.ranking import RankingModel, train_ranking
from ml_platform.recommender.resources import RecommenderSettings
from ml_platform.recommender.retrieval import RetrievalModel, train_retrieval
from ml_platform.recommender.split import split_ratings
from ml_platform.recommender.two_stage import TwoStageRecommender

GROUP = "recommender"
RETRIEVAL_CHECK = "retrieval_beats_popularity"
RANKING_CHECK = "ranking_beats_bias_baseline"


@dg.asset(group_name=GROUP, kinds={"pandas"})
def movies(
    context: dg.AssetExecutionContext, recommender_settings: RecommenderSettings
) -> dg.Output[pd.DataFrame]:
    """The movie catalogue (id, title, year, genres) from the MovieLens files or the generator."""
    with progress.load(context.log, f"movies from {_source(recommender_settings)}") as loaded:
        table = recommender_settings.dataset().movies
        loaded.rows = len(table)
    return dg.Output(
        table, metadata={"movies": len(table), "source": _source(recommender_settings)}
    )


@dg.asset(group_name=GROUP, kinds={"pandas"})
def ratings(
    context: dg.AssetExecutionContext, recommender_settings: RecommenderSettings
) -> dg.Output[pd.DataFrame]:
    """Every (user, movie, rating, timestamp), validated against the catalogue when loaded."""
    with progress.load(context.log, f"ratings from {_source(recommender_settings)}") as loaded:
        table = recommender_settings.dataset().ratings
        loaded.rows = len(table)
    return dg.Output(
        table,
        metadata={
            "ratings": len(table),
            "users": int(table["user_id"].nunique()),
            "mean_rating": float(table["rating"].mean()),
            "source": _source(recommender_settings),
        },
    )


@dg.asset(group_name=GROUP, kinds={"pandas"})
def ratings_split(
    recommender_settings: RecommenderSettings, ratings: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Ratings with a `split` column (train/test): every model and baseline sees the same one."""
    train, test = split_ratings(
        ratings,
        test_share=recommender_settings.test_share,
        seed=recommender_settings.seed,
        method=recommender_settings.split,
    )
    table = pd.concat([train.assign(split="train"), test.assign(split="test")], ignore_index=True)
    return dg.Output(
        table,
        metadata={"train": len(train), "test": len(test), "method": recommender_settings.split},
    )


@dg.asset(
    group_name=GROUP,
    kinds={"tensorflow", "keras"},
    check_specs=[
        dg.AssetCheckSpec(
            RETRIEVAL_CHECK,
            asset="retrieval_model",
            blocking=True,
            description="Top-100 accuracy above the popularity baseline's.",
        )
    ],
)
def retrieval_model(
    recommender_settings: RecommenderSettings, ratings_split: pd.DataFrame, movies: pd.DataFrame
):
    """Two-tower retrieval: user and movie towers trained so a user's movies score highest."""
    train, test = _parts(ratings_split)
    catalogue = movies["movie_id"].to_numpy()
    model = train_retrieval(
        train, movies, recommender_settings.retrieval_config(), seed=recommender_settings.seed
    )
    ours = evaluation.ranking_figures(model.scores, train, test, model.movie_ids)
    popularity = evaluation.ranking_figures(
        Popularity().fit(train, catalogue).scores, train, test, catalogue
    )
    yield dg.Output(
        model,
        metadata=artifacts.model_metadata(
            metrics={
                **ours,
                "train_seconds": model.train_seconds,
                **{f"popularity_{k}": v for k, v in popularity.items()},
            },
            params=asdict(model.config),
            plots={"training": _history_plot(model.history)},
        ),
    )
    yield dg.AssetCheckResult(
        check_name=RETRIEVAL_CHECK,
        passed=bool(ours["top_100_accuracy"] > popularity["top_100_accuracy"]),
        metadata={
            "top_100_accuracy": ours["top_100_accuracy"],
            "popularity_top_100_accuracy": popularity["top_100_accuracy"],
        },
    )


@dg.asset(group_name=GROUP, kinds={"numpy"})
def candidate_index(retrieval_model: RetrievalModel) -> dg.Output[VectorIndex]:
    """Movie-tower vectors behind a nearest-neighbour index: where candidates are retrieved from."""
    # the movie bias as one more dimension: a query [user_vector, 1] then scores exactly as
    # retrieval does (u·v + b), so the index returns retrieval's own candidates
    vectors = np.column_stack([retrieval_model.movie_vectors, retrieval_model.movie_bias])
    index = VectorIndex(retrieval_model.movie_ids, vectors, metric="dot")
    return dg.Output(
        index, metadata={"movies": len(index), "dimensions": int(index.vectors.shape[1])}
    )


@dg.asset(
    group_name=GROUP,
    kinds={"tensorflow", "keras"},
    check_specs=[
        dg.AssetCheckSpec(
            RANKING_CHECK,
            asset="ranking_model",
            blocking=True,
            description="Test RMSE below the tuned user+item bias baseline's.",
        )
    ],
)
def ranking_model(
    context: dg.AssetExecutionContext,
    recommender_settings: RecommenderSettings,
    ratings_split: pd.DataFrame,
    movies: pd.DataFrame,
    retrieval_model: RetrievalModel,
):
    """Ranking: the rating a user would give a movie, from embeddings, biases and features."""
    from ml_platform.core.keras_progress import EpochLog  # imports Keras: only when training

    train, test = _parts(ratings_split)
    catalogue = movies["movie_id"].to_numpy()
    model = train_ranking(
        train,
        movies,
        recommender_settings.ranking_config(),
        retrieval=retrieval_model,
        seed=recommender_settings.seed,
        callbacks=[EpochLog(context.log, "ranking")],
    )
    ours = evaluation.rating_figures(
        test, model.predict(test["user_id"].to_numpy(), test["movie_id"].to_numpy())
    )
    baselines = {
        "global_mean": GlobalMean().fit(train, catalogue),
        "bias": tune_bias_baseline(train, catalogue),
    }
    figures = {
        f"{name}_{metric}": value
        for name, baseline in baselines.items()
        for metric, value in evaluation.rating_figures(
            test, baseline.predict(test["user_id"], test["movie_id"])
        ).items()
    }
    yield dg.Output(
        model,
        metadata=artifacts.model_metadata(
            metrics={**ours, **figures, "train_seconds": model.train_seconds},
            params=asdict(model.config),
            plots={"training": _history_plot(model.history)},
        ),
    )
    yield dg.AssetCheckResult(
        check_name=RANKING_CHECK,
        passed=bool(ours["rmse"] < figures["bias_rmse"]),
        metadata={"rmse": ours["rmse"], "bias_rmse": figures["bias_rmse"]},
    )


@dg.asset(group_name=GROUP, kinds={"numpy"})
def recommender_model(
    context: dg.AssetExecutionContext,
    recommender_settings: RecommenderSettings,
    ratings: pd.DataFrame,
    movies: pd.DataFrame,
    retrieval_model: RetrievalModel,
    ranking_model: RankingModel,
) -> dg.Output[TwoStageRecommender]:
    """The two stages put together: what `ml-platform serve` loads and answers requests with.

    Models are trained on the split's train part, but what a user has already rated is every
    rating we hold: a served recommendation must never be a movie they rated, held out or not.
    Only models that passed their blocking checks are put together (also when this asset is
    materialized on its own, after a run whose check failed).
    """
    promotion.require_promotable(context, "retrieval_model", [RETRIEVAL_CHECK])
    promotion.require_promotable(context, "ranking_model", [RANKING_CHECK])
    model = TwoStageRecommender(
        retrieval_model, ranking_model, ratings, movies, candidates=recommender_settings.candidates
    )
    return dg.Output(
        model,
        metadata={
            "candidates": recommender_settings.candidates,
            "users": int(ratings["user_id"].nunique()),
        },
    )


@dg.asset(group_name=GROUP, io_manager_key="warehouse_io_manager", kinds={"pandas", "sql"})
def recommendations(
    recommender_settings: RecommenderSettings,
    recommender_model: TwoStageRecommender,
    ratings_split: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """Top-k unseen movies per known user, retrieved then ranked: what a batch consumer reads."""
    users = np.sort(ratings_split["user_id"].unique())
    rows = [
        (int(user), rank, item.movie_id, item.title, item.predicted_rating, item.retrieval_score)
        for user in users
        for rank, item in enumerate(
            recommender_model.recommend(int(user), recommender_settings.top_k), start=1
        )
    ]
    table = pd.DataFrame(
        rows,
        columns=["user_id", "rank", "movie_id", "title", "predicted_rating", "retrieval_score"],
    )
    return dg.Output(
        table,
        metadata={
            "users": len(users),
            "rows": len(table),
            "preview": dg.MetadataValue.md(artifacts.markdown_table(table.head(10))),
        },
    )


def _parts(split: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = [c for c in split.columns if c != "split"]
    return (
        split.loc[split["split"] == "train", columns].reset_index(drop=True),
        split.loc[split["split"] == "test", columns].reset_index(drop=True),
    )


def _source(recommender_settings: RecommenderSettings) -> str:
    return (
        recommender_settings.movielens_dir
        or f"generated (seed {recommender_settings.generated_seed})"
    )


def _history_plot(history: dict[str, list[float]]):
    """Losses per epoch on one axis; any other tracked figure (e.g. val_top_100) on a second."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 3.2))
    losses = figure.subplots()
    others = None
    for name, values in history.items():
        epochs = range(1, len(values) + 1)
        if "loss" in name:
            losses.plot(epochs, values, marker="o", label=name)
        else:
            others = others or losses.twinx()
            others.plot(epochs, values, marker="s", linestyle="--", color="tab:green", label=name)
            others.set_ylabel(name)
    losses.set_xlabel("epoch")
    losses.set_ylabel("loss")
    losses.legend(loc="upper left")
    if others is not None:
        others.legend(loc="upper right")
    return figure
