"""One job over the whole graph; sensors and the schedule choose how much of it a run needs."""

import dagster as dg

from ml_platform.entity_matching.assets import GROUP, import_batches

entity_matching_job = dg.define_asset_job(
    "entity_matching_job",
    selection=dg.AssetSelection.groups(GROUP),
    partitions_def=import_batches,
    description="Import a batch, block, compare, (re)train, score, export matches and the review queue.",
)

# What a new batch needs when a trained model exists already: everything but retraining.
BATCH_ASSETS = [
    dg.AssetKey(name)
    for name in (
        "em_sources",
        "em_targets",
        "em_target_blocks",
        "em_unmatched_sources",
        "em_source_blocks",
        "em_candidate_pairs",
        "em_features",
        "em_scores",
        "em_matches",
        "em_review_queue",
    )
]
