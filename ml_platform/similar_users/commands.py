"""`ml-platform similar-users …`: train and evaluate on four CSVs, without the UI."""

import argparse


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from ml_platform.similar_users.evaluation import evaluate_similar_users
    from ml_platform.similar_users.fasttext_models import FastTextConfig
    from ml_platform.similar_users.learners import load_communities, load_learners

    tables = load_learners(args.data_dir)
    figures = evaluate_similar_users(
        tables,
        load_communities(args.data_dir),
        fasttext=FastTextConfig(seed=args.seed),
        leave_out_users=args.leave_out_users,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(figures, indent=2, default=float))
        return 0
    print(f"users: {figures['users']}, all FastText models trained and users embedded in "
          f"{figures['train_seconds']:.1f} s")  # fmt: skip
    if "community_precision_at_10" in figures:
        print(f"precision@10 of same community: {figures['community_precision_at_10']:.3f}")
    if "hit_rate" in figures:
        print(
            f"leave-out ({figures['leave_out_users']} users, {figures['hidden_items']} hidden "
            "items): share of hidden items in the top-10 similar users' profiles"
        )
        for name, prefix in [
            ("FastText + IDF overlap", ""),
            ("random users", "random_"),
            ("Jaccard neighbours", "jaccard_"),
            ("TF-IDF neighbours", "tfidf_"),
            ("heaviest users (same for all)", "heaviest_"),
        ]:
            print(
                f"  {name:<30}{figures[prefix + 'hit_rate']:.3f}   (neighbours' profiles: "
                f"{figures[prefix + 'neighbour_profile_items']:.1f} items)"
            )
    return 0


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    similar = products.add_parser("similar-users", help="FastText similar learners")
    commands = similar.add_subparsers(dest="command", required=True)
    evaluate = commands.add_parser(
        "evaluate",
        help="train on the four CSVs of a folder and print the leave-out evaluation",
    )
    evaluate.add_argument(
        "--data-dir",
        required=True,
        help="folder with course_tags.csv, user_assessment_scores.csv, user_course_views.csv, "
        "user_interests.csv (and user_communities.csv from the generator, optional)",
    )
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument(
        "--leave-out-users", type=int, default=1_000, help="users whose items are hidden"
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.set_defaults(run=_evaluate)
