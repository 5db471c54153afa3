"""`ml-platform`: the platform's logic for people who have files, not a Dagster deployment.

Imports stay inside the commands: `ml-platform em link` must start in well under a second, and
Dagster or great-expectations are not needed for it.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ml_platform.core.errors import InvalidInputError


def _em_link(args: argparse.Namespace) -> int:
    from ml_platform.datasets.records import load_feedback, load_records
    from ml_platform.datasets.schema import load_schema
    from ml_platform.entity_matching import blocking, linking

    started = time.perf_counter()
    schema = load_schema(args.schema)
    sources = load_records(args.sources, schema)
    targets = load_records(args.targets, schema)
    feedback = None
    if args.feedback:
        feedback = load_feedback(
            args.feedback, source_ids=set(sources["id"]), target_ids=set(targets["id"])
        )
    loaded = time.perf_counter() - started

    result = linking.link(
        sources,
        targets,
        schema,
        feedback=feedback,
        threshold=args.threshold,
        one_to_one=args.one_to_one,
    )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.matches.rename(columns={"probability": "score"}).to_csv(output, index=False)

    stages = {"loading": loaded, **result.seconds}
    print(
        f"sources {len(sources):,}  targets {len(targets):,}  "
        f"feedback {0 if feedback is None else len(feedback):,}"
    )
    print(
        f"candidate pairs {result.blocking.pairs:,}  "
        f"reduction ratio {blocking.reduction_ratio(result.blocking.pairs, len(sources), len(targets)):.5f}"
    )
    print(f"matches {len(result.matches):,} → {output}")
    print(
        "seconds  "
        + "  ".join(f"{k} {v:.2f}" for k, v in stages.items())
        + f"  total {time.perf_counter() - started:.2f}"
    )
    return 0


def _recommender_evaluate(args: argparse.Namespace) -> int:
    import json

    from ml_platform.datasets.movielens import (
        load_movies,
        load_ratings,
        validate_ratings_against_movies,
    )
    from ml_platform.recommender.evaluation import evaluate_recommender

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


def _demo(args: argparse.Namespace) -> int:
    from ml_platform.demo import run_demo

    run_demo(
        Path(args.home),
        args.targets,
        args.sources,
        args.arrivals,
        args.seed,
        recommender=not args.skip_recommender,
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ml_platform.serving.app import configure_logging, create_app

    configure_logging()
    # The app logs each request as JSON itself; uvicorn's access log would print each twice.
    uvicorn.run(create_app(), host=args.host, port=args.port, access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ml-platform", description=__doc__.splitlines()[0])
    products = parser.add_subparsers(dest="product", required=True)
    em = products.add_parser("em", help="entity matching")
    em_commands = em.add_subparsers(dest="command", required=True)
    link = em_commands.add_parser(
        "link", help="match source records to target records and write source_id,target_id,score"
    )
    link.add_argument("--sources", required=True, help="CSV of source records (id + attributes)")
    link.add_argument("--targets", required=True, help="CSV of target records (id + attributes)")
    link.add_argument("--schema", help="YAML schema (default: the FEBRL person schema)")
    link.add_argument("--feedback", help="CSV source_id,target_id,label with label 1 or 0")
    link.add_argument("--output", required=True, help="CSV to write the matches to")
    link.add_argument("--threshold", type=float, default=0.5, help="minimum match probability")
    link.add_argument("--one-to-one", action="store_true", help="each target matched at most once")
    link.set_defaults(run=_em_link)

    recommender = products.add_parser("recommender", help="two-stage movie recommender")
    recommender_commands = recommender.add_subparsers(dest="command", required=True)
    evaluate = recommender_commands.add_parser(
        "evaluate", help="split, train both stages and print metrics beside the baselines"
    )
    evaluate.add_argument("--ratings", required=True, help="ratings.csv or u.data")
    evaluate.add_argument("--movies", required=True, help="movies.csv or u.item")
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument("--split", choices=["random", "temporal"], default="random")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(run=_recommender_evaluate)

    demo = products.add_parser("demo", help="generate data and materialize every asset locally")
    demo.add_argument("--home", default=".ml_platform", help="where data and runs are kept")
    demo.add_argument("--targets", type=int, default=3000)
    demo.add_argument("--sources", type=int, default=3000)
    demo.add_argument("--arrivals", type=int, default=3, help="import batches to land the data in")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument(
        "--skip-recommender", action="store_true", help="entity matching only (no ~1 min training)"
    )
    demo.set_defaults(run=_demo)

    serve = products.add_parser("serve", help="serve the stored models over HTTP (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InvalidInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
