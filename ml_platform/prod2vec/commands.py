"""`ml-platform prod2vec …`: prod2vec's figures on Instacart files, without the UI."""

import argparse

# What the table prints, in order: (label, metric prefix).
_METHODS = (
    ("prod2vec (bought with)", ""),
    ("prod2vec (vectors alone)", "vectors_"),
    ("prod2vec (cosine)", "cosine_"),
    ("prod2vec (served similar)", "similar_"),
    ("popularity", "popularity_"),
    ("co-occurrence", "cooccurrence_"),
    ("gensim (bought with)", "gensim_"),
    ("gensim (vectors alone)", "gensim_vectors_"),
    ("gensim (cosine)", "gensim_cosine_"),
)


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from ml_platform.prod2vec.baskets import build_baskets
    from ml_platform.prod2vec.evaluation import evaluate_prod2vec
    from ml_platform.prod2vec.instacart import (
        InstacartDataset,
        empty_products,
        load_order_products,
        load_orders,
        load_products,
        validate_dataset,
    )
    from ml_platform.prod2vec.pairs import PairConfig
    from ml_platform.prod2vec.skipgram import Hyperparameters

    orders = load_orders(args.orders)
    order_products = load_order_products(*args.order_products)
    products = (
        load_products(args.products, args.aisles, args.departments)
        if args.products
        else empty_products()
    )
    dataset = InstacartDataset(orders, order_products, products)
    validate_dataset(dataset, origin=", ".join(map(str, args.order_products)))
    baskets = build_baskets(orders, order_products)
    pair_config = PairConfig(window=args.window or None, seed=args.seed)
    defaults = Hyperparameters()
    hyperparameters = Hyperparameters(
        embedding_dim=args.embedding_dim or defaults.embedding_dim,
        learning_rate=args.learning_rate or defaults.learning_rate,
        epochs=args.epochs or defaults.epochs,
        blend_strength=(
            defaults.blend_strength if args.blend_strength is None else args.blend_strength
        ),
    )
    metrics = evaluate_prod2vec(
        baskets,
        products,
        pair_config,
        hyperparameters,
        seed=args.seed,
        gensim=not args.no_gensim,
    ).metrics
    # which method /products/{id}/similar would serve, by name (a 1.0/0.0 flag in the asset)
    for prefix in ("", "gensim_"):
        if f"{prefix}similar_method" in metrics:
            flag = metrics[f"{prefix}similar_method"]
            metrics[f"{prefix}similar_method"] = "bought_with" if flag == 1.0 else "cosine"
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    print(f"{'method':<24}{'HR@10':>8}{'MRR@10':>8}")
    for label, prefix in _METHODS:
        if f"{prefix}hr_at_10" in metrics:
            hit, mrr = metrics[f"{prefix}hr_at_10"], metrics[f"{prefix}mrr"]
            print(f"{label:<24}{hit:>8.4f}{mrr:>8.4f}")
    print(
        f"{metrics['queries']:.0f} held-out baskets; Keras {metrics['pairs_per_second']:,.0f} "
        f"pairs/s over {metrics['train_seconds']:.1f} s"
        + (
            f"; gensim {metrics['gensim_pairs_per_second']:,.0f} pairs/s"
            if "gensim_pairs_per_second" in metrics
            else ""
        )
    )
    print(f"/products/{{id}}/similar would serve: {metrics['similar_method']}")
    if "aisle_share_at_10" in metrics:
        print(
            f"neighbours in the product's aisle: {metrics['aisle_share_at_10']:.3f} "
            f"(chance {metrics['aisle_share_chance']:.3f})"
        )
    return 0


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    prod2vec = products.add_parser("prod2vec", help="product vectors from shopping baskets")
    commands = prod2vec.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser(
        "evaluate",
        help="hold out each user's last basket, train, and print HR@10/MRR beside the baselines",
    )
    evaluate.add_argument("--orders", required=True, help="orders.csv")
    evaluate.add_argument(
        "--order-products",
        required=True,
        nargs="+",
        help="order_products__prior.csv [order_products__train.csv]",
    )
    evaluate.add_argument("--products", help="products.csv (names and aisles: the aisle test)")
    evaluate.add_argument("--aisles", help="aisles.csv")
    evaluate.add_argument("--departments", help="departments.csv")
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument("--window", type=int, default=5, help="0 = the whole basket")
    evaluate.add_argument("--embedding-dim", type=int)
    evaluate.add_argument("--learning-rate", type=float)
    evaluate.add_argument("--epochs", type=int)
    evaluate.add_argument(
        "--blend-strength", type=float, help="pseudo-baskets of the vectors in 'bought with'"
    )
    evaluate.add_argument("--no-gensim", action="store_true", help="skip gensim's Word2Vec")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(run=_evaluate)
