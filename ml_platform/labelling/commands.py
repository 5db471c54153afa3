"""`ml-platform labelling …`: serve the labelling UI, print a fresh annotator token or session
secret."""

import argparse


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ml_platform.labelling.app import create_app
    from ml_platform.labelling.settings import LabellingSettings

    settings = LabellingSettings.from_environment(
        tweets_prefix=args.tweets_prefix,
        tweets_version=args.tweets_version,
        labels_per_item=args.labels_per_item,
        random_share=args.random_share,
        secure_cookies=args.secure_cookies,
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port)
    return 0


def _secret(args: argparse.Namespace) -> int:
    import secrets

    print(secrets.token_urlsafe(32))
    return 0


def _token(args: argparse.Namespace) -> int:
    import secrets

    print(f"{args.name}:{secrets.token_urlsafe(24)}{':admin' if args.admin else ''}")
    return 0


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    labelling = products.add_parser("labelling", help="labelling UI and AI-tweets dashboard")
    commands = labelling.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve the UI (annotator tokens from $ML_PLATFORM_LABELLING_TOKENS)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--tweets-prefix", default="", help="the tweet product's table prefix")
    serve.add_argument("--tweets-version", type=int, default=0, help="its dataset version")
    serve.add_argument("--labels-per-item", type=int, default=1, help="default k per queue")
    serve.add_argument(
        "--random-share", type=float, default=0.2, help="default share of random items"
    )
    serve.add_argument(
        "--secure-cookies",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the session cookie's Secure flag (default: on unless the UI is reached on a "
        "loopback address; --no-secure-cookies only for plain HTTP on a trusted network)",
    )
    serve.set_defaults(run=_serve)
    token = commands.add_parser("token", help="print a name:token entry for the tokens variable")
    token.add_argument("name")
    token.add_argument("--admin", action="store_true")
    token.set_defaults(run=_token)
    secret = commands.add_parser(
        "secret", help="print a fresh value for $ML_PLATFORM_LABELLING_SECRET (signs sessions)"
    )
    secret.set_defaults(run=_secret)
