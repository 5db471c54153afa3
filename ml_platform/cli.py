"""`ml-platform`: the platform's logic for people who have files, not a Dagster deployment.

Each product registers its own commands (`ml_platform/<product>/commands.py`); this module adds
the platform-wide ones (demo, serve). Imports stay inside the commands so the CLI starts in well
under a second and a command loads only what it uses.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.quiet_tensorflow import quiet_tensorflow
from ml_platform.entity_matching import commands as entity_matching
from ml_platform.labelling import commands as labelling
from ml_platform.prod2vec import commands as prod2vec
from ml_platform.recommender import commands as recommender
from ml_platform.similar_users import commands as similar_users
from ml_platform.tweets import commands as tweets

PRODUCT_COMMANDS = (entity_matching, recommender, prod2vec, tweets, labelling, similar_users)


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
    from ml_platform.serving.server import serve

    return serve(args.host, args.port, args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ml-platform", description=__doc__.splitlines()[0])
    products = parser.add_subparsers(dest="product", required=True)
    for product in PRODUCT_COMMANDS:
        product.register(products)

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
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port, each with its models (about one per core)",
    )
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    quiet_tensorflow()  # before any command imports TensorFlow or starts a subprocess
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InvalidInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
