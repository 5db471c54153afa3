"""What a team sets for the tweet product without touching code: where tweets land, table names,
split sizes, golden labels, retraining."""

import dagster as dg
from upath import UPath

from ml_platform.core.config import with_epochs_capped
from ml_platform.core.storage import ObjectStore
from ml_platform.tweets.classifier import ClassifierConfig
from ml_platform.tweets.contract import TweetTables
from ml_platform.tweets.splits import SplitSizes
from ml_platform.tweets.stream import KafkaSource, LandingSource, TweetSource

GENERATED_LANDING = "tweets/landing"  # under the object store, when no landing_uri is set
SERVING_EXPORTS = "tweet_classifier_serving"  # TensorFlow Serving's model base path


class TweetsSettings(dg.ConfigurableResource, SplitSizes):
    """`landing_uri` is a folder or `s3://bucket/prefix` where JSON-lines files of tweets
    arrive. Unset, the first `raw_tweets` run lands `generated_tweets` generated tweets under
    the object store (`tweets/landing`), and golden labels for the test and dev tables are
    taken from the generator's truth (`simulate_golden_labels`), standing in for people, so
    `dagster dev` materializes the whole group with nothing else. `kafka_bootstrap_servers`
    (with `kafka_topic`) reads a Kafka topic instead of the landing folder. The split sizes
    (`test_size`, `dev_size`, `snorkel_train_size`) are `SplitSizes`' fields, inherited."""

    prefix: str = ""  # table names: <prefix>raw_tweet_dataset_<version>, …
    version: int = 0
    landing_uri: str | None = None
    landing_endpoint_url: str | None = None  # S3-compatible server for an s3:// landing_uri
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str = "tweets"
    kafka_group_id: str = "ml-platform-tweets"
    generated_tweets: int = 20_000
    generated_seed: int = 42
    micro_batch_tweets: int = 10_000
    max_tweets_per_run: int = 200_000  # a run stops taking micro-batches after this many
    split_seed: int = 42
    golden_labels_csv: str | None = None  # imported into the golden table on each run
    simulate_golden_labels: bool = True  # generated data only
    retrain_after_labels: int = 100  # new golden labels that trigger a retrain
    seed: int = 42
    max_epochs: int | None = None  # caps training epochs (tests, quick looks); None = tuned

    def tables(self) -> TweetTables:
        return TweetTables(self.prefix, self.version)

    def split_sizes(self) -> SplitSizes:
        return SplitSizes.of(self)

    def classifier_config(self) -> ClassifierConfig:
        return with_epochs_capped(ClassifierConfig(), self.max_epochs)

    @property
    def generated(self) -> bool:
        return self.landing_uri is None and self.kafka_bootstrap_servers is None

    def landing(self, object_store: ObjectStore) -> UPath:
        if self.landing_uri is None:
            return object_store.path(GENERATED_LANDING)
        options = {"endpoint_url": self.landing_endpoint_url} if self.landing_endpoint_url else {}
        return UPath(self.landing_uri, **options)

    def truth_path(self, object_store: ObjectStore) -> UPath:
        """Where the generator writes its truth labels (beside the landing folder)."""
        landing = self.landing(object_store)
        return landing.parent / f"{landing.name}-truth.csv"

    def source(self, object_store: ObjectStore, warehouse) -> TweetSource:
        if self.kafka_bootstrap_servers:
            return KafkaSource(self.kafka_bootstrap_servers, self.kafka_topic, self.kafka_group_id)
        return LandingSource(self.landing(object_store), warehouse, self.tables())
