"""The entity-matching asset graph, in pipeline order: import → blocking → pairs → features →
candidate model → promoted model (only one that passed its quality floors) → scores → matches
(exported) and the review queue (back to people)."""

from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.core import artifacts, promotion
from ml_platform.core.catalog import DataCatalog
from ml_platform.core.exports import export_partition
from ml_platform.core.storage import ObjectStore, partition_values
from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching import batches, blocking, features, matching, model, training
from ml_platform.entity_matching.records import validate_feedback, validate_records
from ml_platform.entity_matching.resources import MatchingPolicy

import_batches = dg.DynamicPartitionsDefinition(name="em_import_batches")
ALL_BATCHES = dg.AllPartitionMapping()
GROUP = "entity_matching"
QUALITY_CHECK = "em_model_meets_quality_floors"
CANDIDATE = "em_model"
PROMOTED = "em_promoted_model"


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql"},
)
def em_sources(
    context: dg.AssetExecutionContext, warehouse: Warehouse, policy: MatchingPolicy
) -> dg.Output[pd.DataFrame]:
    """Source records this batch imported (as recorded when it closed), validated."""
    batches.get_batch(warehouse, context.partition_key)  # a partition no batch recorded: error
    return _validated(
        batches.read_sources(warehouse, context.partition_key), batches.LANDING_SOURCES, policy
    )


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql"},
)
def em_targets(
    context: dg.AssetExecutionContext, warehouse: Warehouse, policy: MatchingPolicy
) -> dg.Output[pd.DataFrame]:
    """Target records this batch imported (as recorded when it closed), validated."""
    batches.get_batch(warehouse, context.partition_key)  # a partition no batch recorded: error
    return _validated(
        batches.read_targets(warehouse, context.partition_key), batches.LANDING_TARGETS, policy
    )


@dg.asset(
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql"},
    deps=[em_sources, em_targets],
)
def em_feedback(warehouse: Warehouse) -> dg.Output[pd.DataFrame]:
    """Every reviewed pair (latest label wins): stored feedback plus rows landed since its newest."""
    stored = _stored_table(warehouse, "em_feedback")
    landed = batches.read_new_feedback(warehouse, batches.stored_feedback_watermark(warehouse))
    new = validate_feedback(
        landed,
        f"table {batches.LANDING_FEEDBACK}",
        # only the id columns: a label naming a record never imported is refused
        source_ids=batches.imported_ids(warehouse, "em_sources"),
        target_ids=batches.imported_ids(warehouse, "em_targets"),
        withdrawals=True,  # the labelling UI's undo lands the pair with no label
    )
    combined = pd.concat([stored[new.columns] if len(stored) else None, new], ignore_index=True)
    combined = combined.drop_duplicates(["source_id", "target_id"], keep="last", ignore_index=True)
    return dg.Output(
        combined,
        metadata={
            "rows": len(combined),
            "new_rows": len(new),
            "matches": int((combined["label"] == 1).sum()) if len(combined) else 0,
        },
    )


@dg.asset(
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql"},
    ins={"em_targets": dg.AssetIn(partition_mapping=ALL_BATCHES)},
)
def em_target_blocks(
    warehouse: Warehouse, policy: MatchingPolicy, em_targets: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """The cumulative block index of all targets; each run keys only new and updated targets."""
    index = _stored_table(warehouse, "em_target_blocks")
    updated = _updated_ids(em_targets)  # landed again: keyed anew from their newest row
    index = index[~index["id"].isin(updated)] if len(index) else index
    known = set(index["id"]) if len(index) else set()
    newest = _newest_rows(em_targets)
    new_targets = newest[~newest["id"].isin(known)]
    new_keys = blocking.block_keys(new_targets, policy.blocking_rules())
    index = pd.concat(
        [index[new_keys.columns] if len(index) else None, new_keys], ignore_index=True
    )
    return dg.Output(index, metadata={"keys": len(index), "targets_added": len(new_targets)})


@dg.asset(partitions_def=import_batches, group_name=GROUP, kinds={"pandas"}, deps=[em_sources])
def em_unmatched_sources(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.Output[pd.DataFrame]:
    """Earlier sources no batch has matched yet: retried against this batch's new targets."""
    rows = batches.unmatched_earlier_sources(warehouse, context.partition_key)
    return dg.Output(rows, metadata={"rows": len(rows)})


@dg.asset(partitions_def=import_batches, group_name=GROUP, kinds={"pandas"})
def em_source_blocks(
    policy: MatchingPolicy, em_sources: pd.DataFrame, em_unmatched_sources: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Block keys of this batch's sources and of the retried ones (flagged `retry`)."""
    rules = policy.blocking_rules()
    keys = pd.concat(
        [
            blocking.block_keys(em_sources, rules).assign(retry=False),
            blocking.block_keys(em_unmatched_sources, rules).assign(retry=True)
            if len(em_unmatched_sources)
            else None,
        ],
        ignore_index=True,
    )
    return dg.Output(
        keys, metadata={"keys": len(keys), "retried_sources": len(em_unmatched_sources)}
    )


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    kinds={"pandas"},
    ins={"em_targets": dg.AssetIn(partition_mapping=ALL_BATCHES)},
)
def em_candidate_pairs(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    policy: MatchingPolicy,
    em_source_blocks: pd.DataFrame,
    em_target_blocks: pd.DataFrame,
    em_sources: pd.DataFrame,
    em_targets: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """Source/target pairs that share a block key: the only pairs the model will ever score."""
    em_targets = _known_at(em_targets, context.partition_key)
    new_targets = _imported_in(em_targets, context.partition_key)
    rules = policy.blocking_rules()
    pairs, stats = blocking.candidate_pairs(
        em_source_blocks[~em_source_blocks["retry"]],
        em_target_blocks[em_target_blocks["id"].isin(em_targets["id"])],
        rules,
        max_block_pairs=policy.max_block_pairs,
    )
    retried, _ = blocking.candidate_pairs(
        em_source_blocks[em_source_blocks["retry"]],
        em_target_blocks[em_target_blocks["id"].isin(new_targets["id"])],
        rules,
        max_block_pairs=policy.max_block_pairs,
    )
    pairs = pd.concat([pairs, retried], ignore_index=True).drop_duplicates(ignore_index=True)
    metadata: dict[str, object] = {
        "pairs": len(pairs),
        "retried_pairs": len(retried),
        "reduction_ratio": blocking.reduction_ratio(stats.pairs, len(em_sources), len(em_targets)),
        "pairs_per_rule": stats.pairs_per_rule,
        "skipped_blocks": stats.skipped_blocks,
    }
    truth = batches.read_truth(warehouse)
    if truth is not None:
        reachable = truth["source_id"].isin(em_source_blocks["id"]) & truth["target_id"].isin(
            em_targets["id"]
        )
        metadata["pair_completeness"] = blocking.pair_completeness(pairs, truth[reachable])
    return dg.Output(pairs, metadata=metadata)


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    kinds={"pandas"},
    ins={"em_targets": dg.AssetIn(partition_mapping=ALL_BATCHES)},
)
def em_features(
    context: dg.AssetExecutionContext,
    policy: MatchingPolicy,
    em_candidate_pairs: pd.DataFrame,
    em_sources: pd.DataFrame,
    em_unmatched_sources: pd.DataFrame,
    em_targets: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """String, date and code similarities of every candidate pair, by column type."""
    em_targets = _known_at(em_targets, context.partition_key)
    sources = pd.concat(
        [
            em_sources,
            em_unmatched_sources[em_sources.columns] if len(em_unmatched_sources) else None,
        ],
        ignore_index=True,
    )
    table = features.compare(em_candidate_pairs, sources, em_targets, policy.schema().columns)
    return dg.Output(
        table, metadata={"pairs": len(table), "features": len(features.feature_columns(table))}
    )


@dg.asset(
    group_name=GROUP,
    kinds={"scikitlearn"},
    ins={"em_features": dg.AssetIn(partition_mapping=ALL_BATCHES, dagster_type=dg.Any)},
    check_specs=[
        dg.AssetCheckSpec(
            QUALITY_CHECK,
            asset=CANDIDATE,
            blocking=True,
            description="Precision and recall on held-out feedback are at or above the policy's "
            "floors; a candidate that fails is never promoted.",
        )
    ],
)
def em_model(
    context: dg.AssetExecutionContext,
    policy: MatchingPolicy,
    object_store: ObjectStore,
    em_features: Any,
    em_feedback: pd.DataFrame,
):
    """A newly trained Fellegi–Sunter match model (EM on all candidate pairs, steered by human
    feedback), judged on held-out labels: nothing scores with it until it is promoted."""
    table = pd.concat(partition_values(em_features), ignore_index=True)
    # warm-started from the promoted model: a failed candidate's estimates are not carried on
    previous = object_store.read_value(PROMOTED)
    schema = policy.schema()
    matcher = training.train_matcher(
        table,
        em_feedback,
        schema.columns,
        comparison_groups=schema.comparison_groups,
        previous=previous,
        threshold=policy.threshold,
        holdout_share=policy.holdout_share,
        max_pairs=policy.max_training_pairs,
    )
    scores = matcher.probabilities(table)
    labels = model.training_labels(table, em_feedback)  # people's labels, NaN elsewhere
    plots = {"match_probabilities": artifacts.score_histogram(scores, labels)}
    quality = _quality_check(matcher, policy)
    yield dg.Output(
        matcher,
        metadata=artifacts.model_metadata(
            metrics=matcher.metrics, params=matcher.params, plots=plots
        ),
    )
    yield quality


def _quality_check(matcher: training.TrainedMatcher, policy: MatchingPolicy) -> dg.AssetCheckResult:
    metrics = matcher.metrics
    held_out = int(metrics.get("held_out_labels", 0))
    if held_out < policy.min_held_out_labels:
        return dg.AssetCheckResult(
            check_name=QUALITY_CHECK,
            passed=True,
            metadata={
                "held_out_labels": held_out,
                "note": (
                    f"{held_out} held-out labels: too few to judge the model (needs "
                    f"{policy.min_held_out_labels}); the floors apply once enough feedback has arrived"
                ),
            },
        )
    precision, recall = metrics["held_out_precision"], metrics["held_out_recall"]
    return dg.AssetCheckResult(
        check_name=QUALITY_CHECK,
        passed=precision >= policy.min_precision and recall >= policy.min_recall,
        metadata={
            "held_out_precision": precision,
            "held_out_recall": recall,
            "min_precision": policy.min_precision,
            "min_recall": policy.min_recall,
            "held_out_labels": int(metrics["held_out_labels"]),
        },
    )


@promotion.promoted_asset(PROMOTED, GROUP, "scikitlearn")
def em_promoted_model(
    context: dg.AssetExecutionContext, em_model: training.TrainedMatcher
) -> dg.Output[training.TrainedMatcher]:
    """The candidate that met the quality floors: what every batch is scored, exported and
    queued for review with. A retrain that fails leaves the model promoted before in place."""
    candidate_run_id = promotion.require_promotable(context, CANDIDATE, [QUALITY_CHECK])
    return dg.Output(
        em_model,
        metadata={
            **artifacts.model_metadata(metrics=em_model.metrics, params=em_model.params, plots={}),
            "candidate_run_id": candidate_run_id,
        },
    )


@dg.asset(partitions_def=import_batches, group_name=GROUP, kinds={"pandas"})
def em_scores(
    em_features: pd.DataFrame, em_promoted_model: training.TrainedMatcher
) -> dg.Output[pd.DataFrame]:
    """Match probability of every candidate pair in the batch, by the promoted model."""
    scores = em_features[["source_id", "target_id"]].assign(
        probability=em_promoted_model.probabilities(em_features)
    )
    return dg.Output(
        scores,
        metadata={
            "pairs": len(scores),
            "mean_probability": float(scores["probability"].mean()) if len(scores) else 0.0,
        },
    )


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql", "csv", "parquet"},
)
def em_matches(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    object_store: ObjectStore,
    catalog: DataCatalog,
    policy: MatchingPolicy,
    em_scores: pd.DataFrame,
    em_features: pd.DataFrame,
    em_promoted_model: training.TrainedMatcher,
) -> dg.Output[pd.DataFrame]:
    """The best target per source above the threshold, with the columns that decided it; exported."""
    chosen = matching.select_matches(
        em_scores, threshold=policy.threshold, one_to_one=policy.one_to_one
    )
    chosen = _explained(chosen, em_features, em_promoted_model).rename(
        columns={"probability": "score"}
    )
    key = context.partition_key
    metadata: dict[str, object] = {
        "matches": len(chosen),
        **export_partition(
            chosen, "em_matches", "batch", key, object_store=object_store, catalog=catalog
        ),
        "preview": dg.MetadataValue.md(artifacts.markdown_table(chosen.head(10))),
    }
    truth = batches.read_truth(warehouse)
    if truth is not None:  # against the true pairs this batch could find: targets known by now
        known = batches.imported_until(warehouse, batches.LANDING_TARGETS, key)
        reachable = truth["source_id"].isin(em_scores["source_id"]) & truth["target_id"].isin(known)
        metadata.update(matching.evaluate(chosen, truth[reachable]))
    return dg.Output(chosen, metadata=metadata)


@dg.asset(
    partitions_def=import_batches,
    group_name=GROUP,
    io_manager_key="warehouse_io_manager",
    kinds={"pandas", "sql"},
)
def em_review_queue(
    policy: MatchingPolicy,
    em_scores: pd.DataFrame,
    em_features: pd.DataFrame,
    em_promoted_model: training.TrainedMatcher,
) -> dg.Output[pd.DataFrame]:
    """The pairs the model is least sure of, for people to label; their labels become feedback."""
    queue = matching.review_queue(em_scores, size=policy.review_queue_size)
    # The labelling UI shows a reviewer which columns pulled the score which way.
    return dg.Output(
        _explained(queue, em_features, em_promoted_model), metadata={"pairs": len(queue)}
    )


def _explained(
    pairs: pd.DataFrame, features: pd.DataFrame, matcher: training.TrainedMatcher
) -> pd.DataFrame:
    """`pairs` with an `explanation` column: the comparison columns that moved its odds most."""
    rows = pairs.merge(features, on=["source_id", "target_id"], how="left")
    return pairs.assign(explanation=model.explain(matcher.pipeline, rows).to_numpy())


def _validated(rows: pd.DataFrame, table: str, policy: MatchingPolicy) -> dg.Output[pd.DataFrame]:
    schema = policy.schema()
    if rows.empty:  # e.g. a batch of targets only: no rows, so no columns to check either
        rows = rows.reindex(columns=[schema.id_column, *schema.columns])
    records = validate_records(rows, schema, f"table {table}")
    return dg.Output(records, metadata={"rows": len(records)})


def _known_at(targets: pd.DataFrame, batch_key: str) -> pd.DataFrame:
    """Targets imported up to and including this batch: a re-run of a batch compares against
    exactly the targets its first run saw, so it reproduces its result."""
    if "partition_key" not in targets.columns:  # a lone partition comes without the column
        return targets
    return _newest_rows(targets[targets["partition_key"] <= batch_key])


def _newest_rows(targets: pd.DataFrame) -> pd.DataFrame:
    """One row per id: an id imported by several batches is an update, the latest batch's row wins."""
    if "partition_key" not in targets.columns:
        return targets
    ordered = targets.sort_values("partition_key", kind="stable")
    return ordered.drop_duplicates("id", keep="last").sort_index()


def _updated_ids(targets: pd.DataFrame) -> set[str]:
    """Ids that more than one batch imported."""
    if "partition_key" not in targets.columns:
        return set()
    batches_per_id = targets.groupby("id")["partition_key"].nunique()
    return set(batches_per_id[batches_per_id > 1].index)


def _imported_in(targets: pd.DataFrame, batch_key: str) -> pd.DataFrame:
    """The targets this batch imported (what retried sources are compared against)."""
    if "partition_key" not in targets.columns:
        return targets
    return targets[targets["partition_key"] == batch_key]


def _stored_table(warehouse: Warehouse, table: str) -> pd.DataFrame:
    """A cumulative asset's own previous rows (empty on its first materialisation)."""
    if not warehouse.table_exists(table):
        return pd.DataFrame()
    return warehouse.read_table(table).drop(columns=["partition_key"], errors="ignore")
