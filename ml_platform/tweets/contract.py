"""What the tweet product publishes to the apps (labelling, serving): its table names, the columns
readers rely on, and the asset serving loads. The product's own modules take `TweetTables`,
`SPLITS` and `GOLDEN_KEY` from here, so a rename changes both sides at once; the typed columns in
`tables.py` must agree with the names here (`ml_platform_tests/tweets/test_contract.py`). Apps
import nothing else of the product.

Tables are versioned (`TweetTables`): a `prefix` and a `version` from config, so a new version
writes new tables and never touches the old ones; golden labels are people's work and belong to
no version, one table per prefix. Timestamps are timezone-aware UTC.
"""

import re
from dataclasses import dataclass

from ml_platform.core.errors import InvalidInputError

MODEL_ASSET = "tweet_classifier"  # the classifier serving loads (`<asset>` in the object store)

# The tweet as a person sees it: in the split tables (`TweetTables.split`), the deduplicated and
# the AI tweets tables.
TWEET_COLUMNS = ("tweet_id", "created_at", "user_screen_name", "text", "lang", "entity_urls")
# `TweetTables.classified`: the model's probability per tweet.
CLASSIFIED_COLUMNS = ("tweet_id", "probability", "is_ai", "model_version", "classified_at")
# `TweetTables.ai`: tweets the model calls about AI, with what a dashboard shows.
AI_COLUMNS = (*TWEET_COLUMNS, "probability", "model_version", "classified_at")
# `TweetTables.urls`: one row per link of a tweet, with its tweet's `created_at`.
URL_COLUMNS = ("tweet_id", "url", "domain", "original_url", "found_in", "created_at")
# `TweetTables.golden`: one row per judgement (label 1 = about AI, 0 = not, NULL = withdrawn); a
# correction is a newer row by the same annotator.
GOLDEN_COLUMNS = ("tweet_id", "label", "annotator", "labelled_at", "source", "note")
GOLDEN_KEY = ("tweet_id", "annotator", "labelled_at")

SPLITS = ("test", "dev", "snorkel_train", "train")
_NAME = re.compile(r"[a-z][a-z0-9_]*_?|")


@dataclass(frozen=True)
class TweetTables:
    """Every table name of one dataset version."""

    prefix: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.prefix):
            raise InvalidInputError(
                f"tweets prefix is '{self.prefix}', expected lowercase letters, digits and _ "
                "starting with a letter (or empty)"
            )
        if self.version < 0:
            raise InvalidInputError(f"tweets version is {self.version}, expected 0 or more")

    def _versioned(self, name: str) -> str:
        return f"{self.prefix}{name}_{self.version}"

    @property
    def raw(self) -> str:
        return self._versioned("raw_tweet_dataset")

    @property
    def deduplicated(self) -> str:
        return self._versioned("deduplicated_tweet_dataset")

    def split(self, name: str) -> str:
        """`test_dataset_0`, `dev_dataset_0`, `snorkel_train_dataset_0`, `train_dataset_0`."""
        if name not in SPLITS:
            raise InvalidInputError(f"split '{name}', expected one of {', '.join(SPLITS)}")
        return self._versioned(f"{name}_dataset")

    @property
    def weak_labels(self) -> str:
        return self._versioned("weak_label_dataset")

    @property
    def classified(self) -> str:
        return self._versioned("classified_tweets")

    @property
    def ai(self) -> str:
        return self._versioned("ai_tweets")

    @property
    def urls(self) -> str:
        return self._versioned("tweet_urls")

    @property
    def stream_cursor(self) -> str:
        return self._versioned("stream_cursor")

    @property
    def dead_letters(self) -> str:
        return self._versioned("stream_dead_letters")

    @property
    def golden(self) -> str:
        return f"{self.prefix}golden_labels"
