"""Entity matching at size: generate FEBRL-style data, run the CLI's logic, print the figures.

    .venv/bin/python benchmarks/entity_matching.py --sizes 5000 10000 100000 [--feedback 200]
        [--febrl DIR]   # also run on real FEBRL4 (dataset4a.csv / dataset4b.csv) if you have it

Each size runs in a fresh subprocess so peak RSS is that run's own. Printed per run: stage
seconds, pairs/s through features, peak RSS, pair completeness, reduction ratio, precision,
recall, F1 — with zero feedback and with the generated feedback sample.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(size: int, feedback: int, seed: int, one_to_one: bool, febrl: str | None) -> dict:
    """Runs inside the child process: load/generate, link, evaluate."""
    import pandas as pd

    from ml_platform.datasets.person_generator import generate_person_records, write_person_dataset
    from ml_platform.datasets.records import load_feedback, load_records
    from ml_platform.datasets.schema import load_schema
    from ml_platform.entity_matching import blocking, linking, matching

    schema = load_schema()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if febrl:
            targets = load_records(Path(febrl) / "dataset4a.csv", schema)
            sources = load_records(Path(febrl) / "dataset4b.csv", schema)
            truth = pd.DataFrame(
                {
                    "source_id": sources["id"],
                    "target_id": sources["id"].str.replace("-dup-0", "-org"),
                }
            )
            labels = None
            generated = 0.0
        else:
            dataset = generate_person_records(size, size, seed=seed, feedback_size=max(feedback, 1))
            generated = time.perf_counter() - started
            files = write_person_dataset(tmp, dataset)
            targets = load_records(files["targets"], schema)
            sources = load_records(files["sources"], schema)
            truth = dataset.truth
            labels = load_feedback(files["feedback"]).head(feedback) if feedback else None
        loaded = time.perf_counter() - started - generated
        result = linking.link(sources, targets, schema, feedback=labels, one_to_one=one_to_one)
    quality = matching.evaluate(result.matches[["source_id", "target_id"]], truth)
    baselines = {
        name: matching.evaluate(
            matching.select_matches(
                result.features[["source_id", "target_id"]].assign(probability=p)
            ),
            truth,
        )["f1"]
        for name, p in baseline_scores(result.features, schema, labels).items()
    }
    pairs = result.blocking.pairs
    return {
        "data": "FEBRL4 (real)" if febrl else f"generated {size:,}x{size:,}",
        "feedback": 0 if labels is None else len(labels),
        "pairs": pairs,
        "pair_completeness": blocking.pair_completeness(
            result.scores[["source_id", "target_id"]], truth
        ),
        "reduction_ratio": blocking.reduction_ratio(pairs, len(sources), len(targets)),
        **{k: quality[k] for k in ("precision", "recall", "f1")},
        "seconds": {"load": loaded, **result.seconds},
        "link_seconds": sum(result.seconds.values()),
        "pairs_per_second": pairs / max(result.seconds["features"], 1e-9),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_f1": baselines,
    }


def baseline_scores(features, schema, labels) -> dict:
    """What people would otherwise run on the same blocked pairs, with the same selection:
    textbook Fellegi–Sunter (every column independent, no re-weighting: what recordlinkage's
    ECM classifier does) and a threshold on the mean similarity of the columns."""
    import numpy as np

    from ml_platform.entity_matching import model
    from ml_platform.entity_matching.features import MEASURES, feature_name

    levels = model.ComparisonLevels(schema.columns).fit(features)
    textbook = model.FellegiSunter().fit(
        levels.transform(features), model.training_labels(features, labels)
    )
    similarities = np.column_stack(
        [
            features[feature_name(c, MEASURES[kind][0])].to_numpy()
            for c, kind in schema.columns.items()
        ]
    )
    mean = np.nanmean(similarities, axis=1)
    return {
        "textbook Fellegi-Sunter": textbook.predict_proba(levels.transform(features))[:, 1],
        "mean similarity >= 0.8": np.where(mean >= 0.8, 0.5 + mean / 2, 0.0),
    }


def child(args: list[str]) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - started
    return figures


def report(f: dict) -> None:
    stages = "  ".join(f"{k} {v:.1f}" for k, v in f["seconds"].items())
    print(
        f"{f['data']:>26} feedback {f['feedback']:>4}: pairs {f['pairs']:>10,}  "
        f"PC {f['pair_completeness']:.4f}  RR {f['reduction_ratio']:.5f}  "
        f"P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}"
    )
    print(
        f"{'':>26} seconds: {stages}  | wall {f['wall_seconds']:.1f} (incl. generation)  "
        f"pairs/s {f['pairs_per_second']:,.0f}  peak RSS {f['peak_rss_mib']:,.0f} MiB"
    )
    print(
        f"{'':>26} baselines on the same pairs, F1: "
        + "  ".join(f"{name} {f1:.4f}" for name, f1 in f["baseline_f1"].items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--feedback", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one-to-one", action="store_true")
    parser.add_argument("--febrl", help="folder with real FEBRL dataset4a.csv / dataset4b.csv")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = run_one(args.sizes[0], args.feedback, args.seed, args.one_to_one, args.febrl)
        print(json.dumps(figures))
        return
    common = ["--seed", str(args.seed)] + (["--one-to-one"] if args.one_to_one else [])
    if args.febrl:
        report(child(["--sizes", "0", "--feedback", "0", "--febrl", args.febrl, *common]))
    for size in args.sizes:
        for feedback in sorted({0, args.feedback}):
            report(child(["--sizes", str(size), "--feedback", str(feedback), *common]))


if __name__ == "__main__":
    main()
