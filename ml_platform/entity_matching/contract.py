"""What entity matching publishes to the apps (the labelling UI): the tables it reads and writes,
their columns, and the landing tables' time format. The product's own modules import these names
from here, so renaming one changes both sides at once; apps import nothing else of the product.

- `REVIEW_QUEUE` (an asset stored as a table, one partition per import batch): the pairs people
  should judge, `REVIEW_QUEUE_COLUMNS` plus `PARTITION_COLUMN`.
- `SOURCES` / `TARGETS` (assets stored as tables): the imported records, the schema's columns
  plus `RECORD_META_COLUMNS` (bookkeeping a reader drops before showing a record).
- `LANDING_FEEDBACK`: where a person's label lands, `LANDING_FEEDBACK_COLUMNS` — `label` 1 (match), 0
  (not) or NULL (a withdrawn label), `modified_at` as `TIMESTAMP_FORMAT` text in UTC; the newest
  `modified_at` of a pair is its label.
"""

REVIEW_QUEUE = "em_review_queue"
SOURCES = "em_sources"
TARGETS = "em_targets"
LANDING_FEEDBACK = "em_landing_feedback"

ID = "id"
MODIFIED_AT = "modified_at"  # kept when present: the incremental import's cursor
PARTITION_COLUMN = "partition_key"  # the import batch an asset row belongs to
RECORD_META_COLUMNS = (ID, MODIFIED_AT, PARTITION_COLUMN)
REVIEW_QUEUE_COLUMNS = ("source_id", "target_id", "probability", "explanation")
LANDING_FEEDBACK_COLUMNS = ("source_id", "target_id", "label", MODIFIED_AT)

# Canonical UTC text: compares in time order as text on every database.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
