"""`ml-platform em …`: entity matching for people who have two CSV files, not a deployment.

Imports stay inside the command: `ml-platform em link` must start in well under a second.
"""

import argparse
import json
import time

from ml_platform.core.cli_args import probability, writable_file
from ml_platform.core.errors import InvalidInputError


def _link(args: argparse.Namespace) -> int:
    from ml_platform.entity_matching import blocking, linking
    from ml_platform.entity_matching.records import load_feedback, load_records
    from ml_platform.entity_matching.schema import load_schema

    started = time.perf_counter()
    output = writable_file(args.output)
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
    try:
        result.matches.rename(columns={"probability": "score"}).to_csv(output, index=False)
    except OSError as error:
        raise InvalidInputError(f"{output}: cannot write it ({error.strerror})") from error

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


def _land(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ml_platform.core.settings import build_resources
    from ml_platform.entity_matching import batches
    from ml_platform.entity_matching.records import load_feedback, load_records
    from ml_platform.entity_matching.resources import MatchingPolicy

    if not (args.sources or args.targets or args.feedback):
        raise InvalidInputError("em land: give --sources, --targets and/or --feedback")
    warehouse = build_resources()["warehouse"]
    schema = MatchingPolicy(schema_path=args.schema).schema()
    # everything is read and validated before anything lands: a bad file lands nothing
    frames = {}
    for table, path in (
        (batches.LANDING_SOURCES, args.sources),
        (batches.LANDING_TARGETS, args.targets),
    ):
        if path:
            frames[table] = load_records(path, schema).drop(columns="modified_at", errors="ignore")
    if args.feedback:

        def known(table: str) -> set[str]:
            return batches.landed_ids(warehouse, table) | set(
                frames[table]["id"] if table in frames else []
            )

        frames[batches.LANDING_FEEDBACK] = load_feedback(
            args.feedback,
            source_ids=known(batches.LANDING_SOURCES),
            target_ids=known(batches.LANDING_TARGETS),
        ).drop(columns="modified_at", errors="ignore")
    now = datetime.now(UTC)
    for table, rows in frames.items():
        batches.land(warehouse, table, rows, now=now)
    names = {
        batches.LANDING_SOURCES: "sources",
        batches.LANDING_TARGETS: "targets",
        batches.LANDING_FEEDBACK: "feedback",
    }
    print(json.dumps({name: len(frames.get(table, ())) for table, name in names.items()}))
    return 0


def _run_batch(args: argparse.Namespace) -> int:
    import dagster as dg

    from ml_platform.core.settings import build_resources, dagster_home
    from ml_platform.entity_matching import definitions, run_batch

    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # the local instance: SQLite storage in this folder, as the demo's
        config.write_text("telemetry:\n  enabled: false\n")
    defs = dg.Definitions.merge(definitions.defs, dg.Definitions(resources=build_resources()))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        outcomes = run_batch.run_batches(defs, instance)
    for outcome in outcomes:
        if outcome.error is None:
            print(json.dumps(outcome.summary()))
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise InvalidInputError(
            "; ".join(f"import batch {o.batch} failed at {o.error}" for o in failed)
            + " — fix the cause and run `ml-platform em run-batch` again to retry"
        )
    return 0


def _dedupe(args: argparse.Namespace) -> int:
    from ml_platform.entity_matching import dedupe
    from ml_platform.entity_matching.records import load_feedback, load_records
    from ml_platform.entity_matching.schema import load_schema

    started = time.perf_counter()
    output = writable_file(args.output)
    schema = load_schema(args.schema)
    records = load_records(args.records, schema)
    feedback = None
    if args.feedback:
        ids = set(records["id"])
        feedback = load_feedback(args.feedback, source_ids=ids, target_ids=ids)
    loaded = time.perf_counter() - started

    result = dedupe.dedupe(records, schema, feedback=feedback, threshold=args.threshold)
    result.clusters.to_csv(output, index=False)

    sizes = result.clusters["cluster_id"].value_counts()
    stages = {"loading": loaded, **result.seconds}
    print(f"records {len(records):,}  feedback {0 if feedback is None else len(feedback):,}")
    n_all = len(records) * (len(records) - 1) // 2
    print(
        f"candidate pairs {result.blocking.pairs:,}  "
        f"reduction ratio {1 - result.blocking.pairs / max(n_all, 1):.5f}  "
        f"windowed blocks {sum(result.blocking.windowed_blocks.values()):,}"
    )
    print(
        f"clusters {len(sizes):,} ({int((sizes > 1).sum()):,} with duplicates, "
        f"largest {int(sizes.max())}) → {output}"
    )
    print(
        "seconds  "
        + "  ".join(f"{k} {v:.2f}" for k, v in stages.items())
        + f"  total {time.perf_counter() - started:.2f}"
    )
    return 0


def _register_dedupe(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    dedupe = commands.add_parser(
        "dedupe",
        help="cluster the records of one table and write record_id,cluster_id,cluster_confidence",
    )
    dedupe.add_argument("--records", required=True, help="CSV of records (id + attributes)")
    dedupe.add_argument("--schema", help="YAML schema (default: the FEBRL person schema)")
    dedupe.add_argument(
        "--feedback", help="CSV source_id,target_id,label: two record ids, label 1 or 0"
    )
    dedupe.add_argument("--output", required=True, help="CSV to write the clusters to")
    dedupe.add_argument(
        "--threshold", type=probability, default=0.5, help="match probability at which pairs join"
    )
    dedupe.set_defaults(run=_dedupe)


def register(products: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    em = products.add_parser("em", help="entity matching")
    commands = em.add_subparsers(dest="command", required=True)
    link = commands.add_parser(
        "link", help="match source records to target records and write source_id,target_id,score"
    )
    link.add_argument("--sources", required=True, help="CSV of source records (id + attributes)")
    link.add_argument("--targets", required=True, help="CSV of target records (id + attributes)")
    link.add_argument("--schema", help="YAML schema (default: the FEBRL person schema)")
    link.add_argument("--feedback", help="CSV source_id,target_id,label with label 1 or 0")
    link.add_argument("--output", required=True, help="CSV to write the matches to")
    link.add_argument(
        "--threshold", type=probability, default=0.5, help="minimum match probability"
    )
    link.add_argument("--one-to-one", action="store_true", help="each target matched at most once")
    link.set_defaults(run=_link)

    land = commands.add_parser(
        "land",
        help="append records/labels to the configured warehouse's landing tables "
        "(an id landed again is an update: its newer row wins)",
    )
    land.add_argument("--sources", help="CSV of source records (id + attributes)")
    land.add_argument("--targets", help="CSV of target records (id + attributes)")
    land.add_argument("--feedback", help="CSV source_id,target_id,label with label 1 or 0")
    land.add_argument("--schema", help="YAML schema (default: the FEBRL person schema)")
    land.set_defaults(run=_land)

    run = commands.add_parser(
        "run-batch",
        help="close the next import batch and materialize it as the sensor and job would; "
        'prints {"batch": …, "sources": n, "targets": n, "matches": n}',
    )
    run.set_defaults(run=_run_batch)
    _register_dedupe(commands)
