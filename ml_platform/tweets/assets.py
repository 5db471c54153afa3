"""The tweet asset graph: stream → raw table → de-duplicated → four splits → weak labels and
golden labels → labeller evaluation and the candidate classifier → the promoted classifier (only
a candidate that beat the labellers) → live classification → AI tweets → links.

Tables are named from `tweets_settings` (`prefix`, `version`) and written through the
`warehouse` resource rather than the table IO manager, whose names are fixed per asset: a new
version writes new tables and leaves the old ones as they were. Stream-fed tables only ever
gain rows (insert-if-new by tweet id), so a replayed micro-batch or an overlapping run never
duplicates a tweet.
"""

import tempfile
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from upath import UPath

from ml_platform.core import artifacts, progress, promotion, storage
from ml_platform.core.storage import ObjectStore
from ml_platform.core.warehouse import Select, Warehouse
from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets import evaluation, golden, live, splits, stream, tables, training
from ml_platform.tweets.classifier import TweetClassifier, unpack_directory
from ml_platform.tweets.contract import SPLITS
from ml_platform.tweets.parsing import parse_truth
from ml_platform.tweets.resources import SERVING_EXPORTS, TweetsSettings
from ml_platform.tweets.tables import DEDUPLICATED_COLUMNS, SPLIT_COLUMNS

GROUP = "tweets"
CANDIDATE = "tweet_classifier_candidate"  # every trained model, judged by CLASSIFIER_CHECK
PROMOTED = "tweet_classifier"  # what serving, TF Serving and live classification read
CLASSIFIER_CHECK = "tweet_classifier_beats_label_model"
SIMULATED_ANNOTATOR = "generator-truth"
# Metadata: rows of the golden table behind the labels (golden_labels) and behind a model
# (the candidate), so the golden-labels sensor never retrains on labels a model already saw.
GOLDEN_ROWS = "golden_rows"
MODEL_VERSION = "model_version"


def _table_metadata(warehouse: Warehouse, table: str, **extra) -> dict:
    qualified = ".".join(filter(None, [warehouse.db_schema, table]))
    return {
        "dagster/table_name": qualified,
        "dagster/row_count": tables.count_rows(warehouse, table),
        **extra,
    }


@dg.asset(group_name=GROUP, kinds={"python", "sql"})
def raw_tweets(
    context: dg.AssetExecutionContext,
    tweets_settings: TweetsSettings,
    warehouse: Warehouse,
    object_store: ObjectStore,
) -> dg.MaterializeResult:
    """Every tweet the stream delivered, once: micro-batches appended to the versioned raw table."""
    if tweets_settings.generated:
        _land_generated_stream(context, tweets_settings, object_store)
    source = tweets_settings.source(object_store, warehouse)
    try:
        reports = stream.ingest_available(
            source,
            warehouse,
            tweets_settings.tables(),
            tweets_settings.micro_batch_tweets,
            max_batches=max(
                1, tweets_settings.max_tweets_per_run // tweets_settings.micro_batch_tweets
            ),
        )
    finally:
        source.close()
    rejected = [problem for report in reports for problem in report.rejected]
    read = sum(r.read for r in reports)
    seconds = sum(r.seconds for r in reports)
    return dg.MaterializeResult(
        metadata=_table_metadata(
            warehouse,
            tweets_settings.tables().raw,
            source=source.name,
            micro_batches=len(reports),
            tweets_read=read,
            tweets_stored=sum(r.stored for r in reports),
            already_stored=sum(r.already_stored for r in reports),
            rejected=len(rejected),
            dead_lettered=sum(r.dead_lettered for r in reports),
            dead_letter_table=tweets_settings.tables().dead_letters,
            dead_letters_total=tables.count_rows(warehouse, tweets_settings.tables().dead_letters),
            rejected_sample=dg.MetadataValue.md(
                "\n".join(f"- {p}" for p in rejected[:10]) or "none"
            ),
            tweets_per_second=read / seconds if seconds else 0.0,
        )
    )


def _land_generated_stream(
    context: dg.AssetExecutionContext, settings: TweetsSettings, object_store: ObjectStore
) -> None:
    """Generated mode: land the generated stream once, so there is something to ingest."""
    landing = settings.landing(object_store)
    if landing.exists() and any(landing.iterdir()):
        return
    generated = generate_tweet_stream(settings.generated_tweets, seed=settings.generated_seed)
    files = write_tweet_stream(landing, generated, truth_path=settings.truth_path(object_store))
    context.log.info(f"landed {len(generated.messages)} generated tweets in {len(files)} files")


@dg.asset(group_name=GROUP, kinds={"pandas", "sql"}, deps=[raw_tweets])
def deduplicated_tweets(
    tweets_settings: TweetsSettings, warehouse: Warehouse
) -> dg.MaterializeResult:
    """One tweet per text (retweets, re-shares with new links and copies dropped), the first seen."""
    names = tweets_settings.tables()
    stored = tables.read_rows(warehouse, names.deduplicated)
    known = set(stored["text_key"]) if len(stored) else set()
    raw = tables.read_rows(warehouse, names.raw)
    new = splits.deduplicate(raw, known) if len(raw) else raw
    added = (
        tables.insert_new_rows(
            warehouse, names.deduplicated, new, DEDUPLICATED_COLUMNS, ("text_key",)
        )
        if len(new)
        else 0
    )
    return dg.MaterializeResult(
        metadata=_table_metadata(
            warehouse,
            names.deduplicated,
            raw_tweets=len(raw),
            added=added,
            duplicates_in_raw=len(raw) - len(known) - added,
        )
    )


@dg.asset(group_name=GROUP, kinds={"pandas", "sql"}, deps=[deduplicated_tweets])
def tweet_splits(tweets_settings: TweetsSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """test / dev / snorkel_train / train tables; a tweet keeps its split as the stream grows."""
    names = tweets_settings.tables()
    assigned = read_splits(warehouse, tweets_settings)
    known = set(assigned["text_key"]) if len(assigned) else set()
    deduplicated = tables.read_rows(warehouse, names.deduplicated)
    new = deduplicated[~deduplicated["text_key"].isin(known)] if len(deduplicated) else deduplicated
    filled = assigned["split"].value_counts().to_dict() if len(assigned) else {}
    added = {}
    if len(new):
        labelled = splits.assign_splits(
            new, filled, tweets_settings.split_sizes(), tweets_settings.split_seed
        )
        for split in SPLITS:
            rows = labelled[labelled["split"] == split]
            added[split] = tables.insert_new_rows(
                warehouse, names.split(split), rows, SPLIT_COLUMNS, ("tweet_id",)
            )
    counts = {split: tables.count_rows(warehouse, names.split(split)) for split in SPLITS}
    return dg.MaterializeResult(
        metadata={
            **{f"{split}_table": names.split(split) for split in SPLITS},
            **{f"{split}_rows": counts[split] for split in SPLITS},
            **{f"{split}_added": added.get(split, 0) for split in SPLITS},
        }
    )


def read_splits(warehouse: Warehouse, settings: TweetsSettings) -> pd.DataFrame:
    """Every split table's rows with a `split` column."""
    names = settings.tables()
    frames = [
        rows.assign(split=split)
        for split in SPLITS
        if len(rows := tables.read_rows(warehouse, names.split(split)))
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@dg.asset(group_name=GROUP, kinds={"pandas", "sql"}, deps=[tweet_splits])
def golden_labels(
    context: dg.AssetExecutionContext,
    tweets_settings: TweetsSettings,
    warehouse: Warehouse,
    object_store: ObjectStore,
) -> dg.Output[pd.DataFrame]:
    """People's labels (one per tweet, resolved across annotators), the ground truth to judge by."""
    table = tweets_settings.tables().golden
    imported = 0
    if tweets_settings.golden_labels_csv:
        imported = golden.store(
            warehouse, table, golden.load_golden_csv(tweets_settings.golden_labels_csv)
        )
    simulated = 0
    if tweets_settings.generated and tweets_settings.simulate_golden_labels:
        simulated = _simulate_annotators(warehouse, tweets_settings, object_store)
        context.log.info(f"{simulated} golden labels from the generator's truth (test and dev)")
    stored = golden.read(warehouse, table)
    resolved = golden.resolve(stored)
    assigned = read_splits(warehouse, tweets_settings)
    split_of = assigned.set_index("tweet_id")["split"] if len(assigned) else pd.Series(dtype="str")
    resolved = resolved.assign(
        split=resolved["tweet_id"].map(split_of).fillna("none").astype("str")
    )
    per_split = resolved["split"].value_counts().to_dict()
    return dg.Output(
        resolved,
        metadata={
            "table": table,
            GOLDEN_ROWS: len(stored),  # how far into the append-only table these labels reach
            "labels": len(resolved),
            "ai_share": float(resolved["label"].mean()) if len(resolved) else 0.0,
            "imported_from_csv": imported,
            "simulated": simulated,
            **{f"labels_in_{split}": int(per_split.get(split, 0)) for split in (*SPLITS, "none")},
        },
    )


def golden_rows_resolved(instance: dg.DagsterInstance) -> int:
    """Golden-table rows behind the stored `golden_labels` value (the latest materialization,
    which is what a downstream step loads); 0 before the first."""
    return _metadata_int(instance, "golden_labels", GOLDEN_ROWS)


def golden_rows_trained_on(instance: dg.DagsterInstance) -> int:
    """Golden-table rows the latest candidate was trained on, promoted or not (retraining on
    the same labels would make the same model again); 0 before the first."""
    return _metadata_int(instance, CANDIDATE, GOLDEN_ROWS)


def _metadata_int(instance: dg.DagsterInstance, asset: str, key: str) -> int:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    if event is None or event.asset_materialization is None:
        return 0
    value = event.asset_materialization.metadata.get(key)
    return int(value.value) if value is not None else 0


def _simulate_annotators(
    warehouse: Warehouse, settings: TweetsSettings, object_store: ObjectStore
) -> int:
    truth_path = settings.truth_path(object_store)
    if not truth_path.exists():
        return 0
    truth = parse_truth(truth_path.read_bytes(), str(truth_path))
    names = settings.tables()
    to_label = pd.concat(
        [tables.read_rows(warehouse, names.split(split)) for split in ("test", "dev")],
        ignore_index=True,
    )
    if to_label.empty:
        return 0
    labels = truth[truth["tweet_id"].isin(to_label["tweet_id"])]
    rows = pd.DataFrame(
        {
            "tweet_id": labels["tweet_id"].to_numpy(),
            "label": labels["is_ai"].to_numpy(),
            "annotator": SIMULATED_ANNOTATOR,
            "labelled_at": pd.Timestamp("2026-01-01", tz="UTC"),
            "source": SIMULATED_ANNOTATOR,
        }
    )
    return golden.store(warehouse, names.golden, rows)


@dg.asset(group_name=GROUP, kinds={"numpy", "sql"}, deps=[tweet_splits])
def weak_labels(
    tweets_settings: TweetsSettings, warehouse: Warehouse, golden_labels: pd.DataFrame
) -> dg.MaterializeResult:
    """Labelling functions' votes and the label model's P(AI) for every split tweet, with the LF
    analysis (polarity, coverage, overlaps, conflicts, empirical accuracy on golden labels)."""
    names = tweets_settings.tables()
    tweets = read_splits(warehouse, tweets_settings)
    result = training.weak_labels(tweets, golden_labels)
    warehouse.replace_rows(names.weak_labels, result.table)
    probability = result.table["label_model_probability"]
    return dg.MaterializeResult(
        metadata={
            **_table_metadata(warehouse, names.weak_labels),
            "lf_analysis": dg.MetadataValue.md(
                artifacts.markdown_table(result.analysis.set_index("function").round(4))
            ),
            "label_model_fitted_on": result.fitted_on,
            "label_model_iterations": result.label_model.iterations,
            "label_model_ai_prior": float(result.label_model.class_prior[1]),
            "weak_ai_share": float((probability >= 0.5).mean()) if len(probability) else 0.0,
            "no_vote_share": float((training.votes_of(result.table) == -1).all(axis=1).mean())
            if len(result.table)
            else 0.0,
        }
    )


@dg.asset(group_name=GROUP, kinds={"pandas"}, deps=[weak_labels])
def labeller_evaluation(
    tweets_settings: TweetsSettings, warehouse: Warehouse, golden_labels: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """How right each labelling function, majority vote and the label model are on golden labels."""
    weak = tables.read_rows(warehouse, tweets_settings.tables().weak_labels)
    table = training.evaluate_labellers(weak, golden_labels)
    by_name = table.set_index("labeller")
    return dg.Output(
        table,
        metadata={
            "golden_labels_used": int(weak["tweet_id"].isin(golden_labels["tweet_id"]).sum()),
            "evaluation": dg.MetadataValue.md(artifacts.markdown_table(by_name.round(4))),
            **{
                f"{name}_f1": float(by_name.loc[name, "f1"])
                for name in ("label_model", "majority_vote")
                if name in by_name.index
            },
        },
    )


@dg.asset(
    group_name=GROUP,
    kinds={"tensorflow", "keras"},
    deps=[weak_labels],
    check_specs=[
        dg.AssetCheckSpec(
            CLASSIFIER_CHECK,
            asset=CANDIDATE,
            blocking=True,
            description="Test F1 above the label model's and majority vote's on the same "
            "tweets; a candidate that fails is never promoted.",
        )
    ],
)
def tweet_classifier_candidate(
    context: dg.AssetExecutionContext,
    tweets_settings: TweetsSettings,
    warehouse: Warehouse,
    object_store: ObjectStore,
    golden_labels: pd.DataFrame,
):
    """A newly trained Keras text classifier, judged beside the labellers: nothing reads it
    but the promotion, which happens only when its check passed."""
    from ml_platform.core.keras_progress import EpochLog  # imports Keras: only when training

    names = tweets_settings.tables()
    with progress.load(context.log, "split tweets") as loaded:
        tweets = read_splits(warehouse, tweets_settings)
        loaded.rows = len(tweets)
    weak = tables.read_rows(warehouse, names.weak_labels)
    version = _next_version(context.instance, object_store)
    trained = training.train_tweet_classifier(
        tweets,
        weak,
        golden_labels,
        tweets_settings.classifier_config(),
        version=version,
        seed=tweets_settings.seed,
        callbacks=[EpochLog(context.log, CANDIDATE)],
    )
    metrics = trained.metrics
    yield dg.Output(
        trained.classifier,
        metadata={
            **artifacts.model_metadata(
                metrics=metrics,
                params=trained.classifier.params,
                plots={
                    "precision_recall": artifacts.precision_recall_curve_figure(
                        trained.test_truth, trained.test_scores
                    ),
                    "reliability": evaluation.reliability_figure(
                        trained.reliability, metrics["brier_score"]
                    ),
                }
                if len(np.unique(trained.test_truth)) == 2
                else {},
            ),
            MODEL_VERSION: version,
            GOLDEN_ROWS: golden_rows_resolved(context.instance),
            "threshold": dg.MetadataValue.float(trained.classifier.threshold),
            "threshold_chosen_on": trained.threshold_chosen_on,
            "reliability_diagram": dg.MetadataValue.md(
                artifacts.markdown_table(trained.reliability.round(3))
            ),
            "evaluated_on": trained.evaluated_on,
            "comparison": dg.MetadataValue.md(
                artifacts.markdown_table(trained.comparison.set_index("model").round(4))
            ),
            "confusion_matrix": dg.MetadataValue.md(artifacts.markdown_table(trained.confusion)),
        },
    )
    yield dg.AssetCheckResult(
        check_name=CLASSIFIER_CHECK,
        passed=classifier_beats_labellers(metrics),
        metadata={
            "f1": metrics["f1"],
            "label_model_f1": metrics["label_model_f1"],
            "majority_vote_f1": metrics["majority_vote_f1"],
            "evaluated_on": trained.evaluated_on,
        },
    )


def classifier_beats_labellers(metrics: dict[str, float]) -> bool:
    """The gate: a classifier no better than its own weak labels would only add a model."""
    return bool(
        metrics["f1"] > metrics["label_model_f1"] and metrics["f1"] > metrics["majority_vote_f1"]
    )


@promotion.promoted_asset(PROMOTED, GROUP, "tensorflow")
def tweet_classifier(
    context: dg.AssetExecutionContext,
    object_store: ObjectStore,
    tweet_classifier_candidate: TweetClassifier,
) -> dg.Output[TweetClassifier]:
    """The candidate that passed its check, exported as a versioned SavedModel (TensorFlow
    Serving layout): what the serving app, TF Serving and live classification use."""
    candidate_run_id = promotion.require_promotable(context, CANDIDATE, [CLASSIFIER_CHECK])
    model = tweet_classifier_candidate
    exported = object_store.path(f"{SERVING_EXPORTS}/{model.version}")
    _export(model, exported)
    context.log.info(f"SavedModel version {model.version} exported to {exported}")
    return dg.Output(
        model,
        metadata={
            MODEL_VERSION: model.version,
            "threshold": dg.MetadataValue.float(model.threshold),
            "saved_model": dg.MetadataValue.path(str(exported)),
            "candidate_run_id": candidate_run_id,
        },
    )


def _next_version(instance: dg.DagsterInstance, object_store: ObjectStore) -> int:
    """One more than the highest version exported or given to a candidate: TensorFlow Serving
    serves the highest, and a failed candidate's number is never reused for another model."""
    base = object_store.path(SERVING_EXPORTS)
    versions = [_metadata_int(instance, CANDIDATE, MODEL_VERSION)]
    if base.exists():
        base.fs.invalidate_cache()
        versions += [int(p.name) for p in base.iterdir() if p.name.isdigit()]
    return max(versions) + 1


def _export(model: TweetClassifier, target: UPath) -> None:
    """Unpack the SavedModel where `tensorflow_model_server --model_base_path` looks, never
    visible there half-copied (TF Serving polls that folder)."""
    with tempfile.TemporaryDirectory() as directory:
        unpack_directory(model.saved_model, Path(directory))
        storage.publish_directory(Path(directory), target, last=("saved_model.pb",))


# Live classification follows its parents: a newly promoted model classifies the backlog no
# model has seen, and tweets stored by a run that did not classify them are classified after it
# (a run that materializes both, such as a stream micro-batch, sets nothing further off).
FOLLOWS_PARENTS = dg.AutomationCondition.eager()


@dg.asset(
    group_name=GROUP,
    kinds={"tensorflow", "sql"},
    deps=[raw_tweets],
    automation_condition=FOLLOWS_PARENTS,
)
def classified_tweets(
    tweets_settings: TweetsSettings, warehouse: Warehouse, tweet_classifier: TweetClassifier
) -> dg.MaterializeResult:
    """P(about AI) for every stored tweet not classified yet, by the promoted model (the one
    serving loads)."""
    report = live.classify_new(
        warehouse,
        tweets_settings.tables(),
        tweet_classifier.predict,
        tweet_classifier.version,
        tweet_classifier.threshold,
    )
    return dg.MaterializeResult(
        metadata=_table_metadata(
            warehouse,
            tweets_settings.tables().classified,
            newly_classified=report.stored,
            model_version=tweet_classifier.version,
            threshold=tweet_classifier.threshold,
        )
    )


@dg.asset(
    group_name=GROUP,
    kinds={"sql"},
    deps=[classified_tweets],
    automation_condition=FOLLOWS_PARENTS,
)
def ai_tweets(tweets_settings: TweetsSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """The tweets to retweet: classified as about AI, with probability and model version."""
    report = live.store_ai_tweets(warehouse, tweets_settings.tables())
    return dg.MaterializeResult(
        metadata=_table_metadata(warehouse, tweets_settings.tables().ai, added=report.stored)
    )


@dg.asset(group_name=GROUP, kinds={"sql"}, deps=[ai_tweets], automation_condition=FOLLOWS_PARENTS)
def tweet_urls(tweets_settings: TweetsSettings, warehouse: Warehouse) -> dg.MaterializeResult:
    """Links in AI tweets (text and entities), normalised, one row per tweet and link."""
    names = tweets_settings.tables()
    report = live.store_urls(warehouse, names)
    top = (
        warehouse.count_by(Select(names.urls), "domain", top=10).rename(columns={"n": "links"})
        if warehouse.table_exists(names.urls)
        else pd.DataFrame()
    )
    return dg.MaterializeResult(
        metadata=_table_metadata(
            warehouse,
            names.urls,
            ai_tweets_examined=report.considered,
            added=report.stored,
            top_domains=dg.MetadataValue.md(
                artifacts.markdown_table(top.set_index("domain")) if len(top) else "none"
            ),
        )
    )
