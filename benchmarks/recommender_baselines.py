"""Recommender baselines on MovieLens (either layout) or generated data: the figures to beat.

    .venv/bin/python benchmarks/recommender_baselines.py [--data DIR] [--split random|temporal]
        [--seed 42]   # without --data: generate_movielens(seed=...)

Prints the data's statistics beside real MovieLens 100K's, then per baseline: RMSE, MAE,
FactorizedTopK accuracy at 1/5/10/50/100 (seen movies kept), recall@10/50/100 and NDCG@10
(seen movies removed, every held-out movie relevant) and the seconds to fit and evaluate.
"""

import argparse
import time

from ml_platform.demo_data.movielens import ML_100K_STATS, describe_ratings, generate_movielens
from ml_platform.recommender import metrics
from ml_platform.recommender.baselines import GlobalMean, Popularity, tune_bias_baseline
from ml_platform.recommender.movielens import load_movielens
from ml_platform.recommender.split import split_ratings

# Real MovieLens 100K, random 80/20 split (seed 42): the reference figures.
REAL_BASELINES = {
    "GlobalMean": "RMSE 1.133",
    "BiasBaseline": "RMSE 0.951 (SVD 0.934, SVD++ 0.925)",
    "Popularity": "top-100 0.295 (implicit ALS 0.350)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with ratings.csv+movies.csv or u.data+u.item")
    parser.add_argument("--split", default="random", choices=("random", "temporal"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = load_movielens(args.data) if args.data else generate_movielens(seed=args.seed)
    source = args.data or f"generated (seed {args.seed})"
    print(f"data: {source}, {time.perf_counter() - started:.1f} s to load/generate\n")
    stats = describe_ratings(dataset.ratings)
    print(f"{'statistic':<24} {'this data':>10} {'ML-100K':>10}")
    for name, real in ML_100K_STATS.items():
        print(f"{name:<24} {stats[name]:>10.3f} {real:>10.3f}")

    train, test = split_ratings(dataset.ratings, seed=42, method=args.split)
    movies = dataset.movies["movie_id"].to_numpy()
    print(f"\nsplit: {args.split}, {len(train)} train / {len(test)} test ratings\n")
    fitters = {
        "GlobalMean": lambda: GlobalMean().fit(train, movies),
        "BiasBaseline": lambda: tune_bias_baseline(train, movies),
        "Popularity": lambda: Popularity().fit(train, movies),
    }
    print(
        f"{'model':<13} {'RMSE':>6} {'MAE':>6} {'top1':>6} {'top5':>6} {'top10':>6} "
        f"{'top50':>6} {'top100':>6} {'R@10':>6} {'R@50':>6} {'R@100':>6} {'NDCG10':>6} "
        f"{'fit s':>6} {'eval s':>6}  real ML-100K"
    )
    for name, fit in fitters.items():
        started = time.perf_counter()
        model = fit()
        fitted = time.perf_counter()
        predicted = model.predict(test["user_id"], test["movie_id"])
        line = (
            f"{name:<13} {metrics.rmse(test['rating'], predicted):>6.3f} "
            f"{metrics.mae(test['rating'], predicted):>6.3f} "
        )
        if name == "GlobalMean":  # equal scores for all movies: top-k would count ties as hits
            line += " ".join(f"{'-':>6}" for _ in range(9))
        else:
            accuracy = metrics.top_k_categorical_accuracy(model.scores, test, movies)
            recall = metrics.recall_at_k(model.scores, train, test, movies)
            ndcg = metrics.ndcg_at_10(model.scores, train, test, movies)
            line += " ".join(f"{value:>6.3f}" for value in [*accuracy.values(), *recall.values()])
            line += f" {ndcg:>6.3f}"
        evaluated = time.perf_counter()
        print(f"{line} {fitted - started:>6.2f} {evaluated - fitted:>6.2f}  {REAL_BASELINES[name]}")


if __name__ == "__main__":
    main()
