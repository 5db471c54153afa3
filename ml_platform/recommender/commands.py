"""`ml-platform recommender …`: the recommender's metrics on MovieLens files, without the UI."""

import argparse


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from ml_platform.recommender.evaluation import evaluate_recommender
    from ml_platform.recommender.movielens import (
        load_movies,
        load_ratings,
        validate_ratings_against_movies,
    )

    movies = load_movies(args.movies)
    ratings = load_ratings(args.ratings)
    validate_ratings_against_movies(ratings, movies, origin=str(args.ratings))
    metrics = evaluate_recommender(ratings, movies, seed=args.seed, split=args.split).metrics
    if args.json:
        print(json.dumps(metrics, indent=2, default=float))
        return 0
    baselines = metrics.get("baselines", {})
    rows = {"two-stage": metrics, **baselines}
    names = ["rmse", "mae", "top_10_accuracy", "top_100_accuracy", "recall_at_100", "ndcg_at_10"]
    print(f"{'model':<16}" + "".join(f"{n:>18}" for n in names))
    for model, values in rows.items():
        cells = "".join(
            f"{values[n]:>18.4f}" if isinstance(values.get(n), float) else f"{'-':>18}"
            for n in names
        )
        print(f"{model:<16}{cells}")
    print(f"training both stages: {metrics['train_seconds']:.1f} s")
    return 0


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    recommender = products.add_parser("recommender", help="two-stage movie recommender")
    commands = recommender.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser(
        "evaluate", help="split, train both stages and print metrics beside the baselines"
    )
    evaluate.add_argument("--ratings", required=True, help="ratings.csv or u.data")
    evaluate.add_argument("--movies", required=True, help="movies.csv or u.item")
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument("--split", choices=["random", "temporal"], default="random")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(run=_evaluate)
