"""What a team tunes about matching without touching code: schema, thresholds, quality floors."""

import dagster as dg

from ml_platform.entity_matching import blocking
from ml_platform.entity_matching.schema import RecordSchema, load_schema


class MatchingPolicy(dg.ConfigurableResource):
    """Defaults are the values tuned on FEBRL-style person data."""

    schema_path: str | None = None  # YAML schema; None = the packaged FEBRL person schema
    threshold: float = 0.5  # minimum match probability for an exported match
    one_to_one: bool = False  # each target matched at most once
    max_block_pairs: int = 400  # blocks that would produce more pairs than this are skipped
    min_precision: float = 0.90  # on held-out feedback; below it the export is blocked
    min_recall: float = 0.90
    min_held_out_labels: int = 30  # fewer held-out labels than this cannot judge a model
    holdout_share: float = 0.2  # of feedback pairs kept out of training to measure the model
    review_queue_size: int = 100
    retrain_after_labels: int = 50  # new feedback rows that trigger a retrain
    max_training_pairs: int = 2_000_000  # EM sees at most this many pairs (a seeded sample)
    max_batch_attempts: int = 3  # runs of one import batch before the sensor stops retrying it

    def schema(self) -> RecordSchema:
        return load_schema(self.schema_path)

    def blocking_rules(self) -> list[blocking.BlockingRule]:
        schema = self.schema()
        return blocking.rules_from_schema(schema.columns, schema.blocking)
