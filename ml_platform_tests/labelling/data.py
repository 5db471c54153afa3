"""Small, realistic tables in the products' own contracts, written with the products' own
writers, for the labelling app to read: tweets of the test split with classifications, AI
tweets with links, and an entity-matching import batch with its review queue."""

import secrets
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.persons import generate_person_records
from ml_platform.entity_matching import batches
from ml_platform.labelling.settings import Annotator, LabellingSettings
from ml_platform.tweets import tables
from ml_platform.tweets.contract import TweetTables

BATCH = "20261101T000000000000Z"
FIRST_TWEET_ID = 1_600_000_000_000_000_000  # ids near 2^60: they must survive every round trip
MARKUP = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & GPT'
START = datetime(2026, 11, 20, 8, tzinfo=UTC)

AI_TOPICS = [
    "New paper: a transformer that reasons over tables beats GPT-4 on the benchmark",
    "Fine-tuning LLMs on 8 GPUs with LoRA, notes from our team",
    "Is machine learning hype or the new electricity? Thread",
    "Our diffusion model now generates 4K images in two seconds",
    "Open-source weights for a 7B language model released today",
]
OTHER_TOPICS = [
    "Coffee first, then the standup meeting",
    "What a match last night, the keeper was unbelievable",
    "Rain all week in Manchester, of course",
    "Baked sourdough for the first time and it actually rose",
    "Traffic on the A40 is a nightmare again",
]
DOMAINS = ["arxiv.org", "github.com", "huggingface.co", "nytimes.com", "bbc.co.uk"]


def settings(warehouse: Warehouse, **overrides) -> tuple[LabellingSettings, dict[str, str]]:
    """Settings with three annotators (alice is admin); their tokens by name."""
    tokens = {name: secrets.token_urlsafe(24) for name in ("alice", "bob", "carol")}
    annotators = {
        token: Annotator(name=name, admin=name == "alice") for name, token in tokens.items()
    }
    return LabellingSettings(warehouse=warehouse, annotators=annotators, **overrides), tokens


def tweets(n: int, seed: int = 7) -> pd.DataFrame:
    """`n` tweets of the test split; the first one's text is markup, and it is the one the
    model is least sure about, so it is shown first."""
    rng = np.random.default_rng(seed)
    ai = rng.random(n) < 0.5
    texts = [
        f"{(AI_TOPICS if a else OTHER_TOPICS)[rng.integers(5)]} #{i}" for i, a in enumerate(ai)
    ]
    texts[0] = MARKUP
    urls = [
        f"https://{DOMAINS[rng.integers(3) if a else 3 + rng.integers(2)]}/item/{i}"
        for i, a in enumerate(ai)
    ]
    urls[0] = "javascript:alert(1) https://arxiv.org/abs/2401.00001"
    created = [START + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 600, n))]
    ids = np.arange(FIRST_TWEET_ID, FIRST_TWEET_ID + n, dtype="int64")
    now = datetime(2026, 11, 21, tzinfo=UTC)
    probability = np.clip(np.where(ai, 0.75, 0.25) + rng.normal(0, 0.2, n), 0.01, 0.99)
    probability[0] = 0.5
    return pd.DataFrame(
        {
            "text_key": [t.lower() for t in texts],
            "tweet_id": ids,
            "created_at": pd.Series(created, dtype="datetime64[us, UTC]"),
            "text": pd.Series(texts, dtype="str"),
            "lang": "en",
            "user_screen_name": [f"user_{i % 7}" for i in range(n)],
            "entity_urls": pd.Series(urls, dtype="str"),
            "retweeted_id": pd.array([None] * n, dtype="Int64"),
            "source_format": "v2",
            "source": "landing/part-0001.jsonl",
            "arrived_at": pd.Series([now] * n, dtype="datetime64[us, UTC]"),
            "stored_at": pd.Series([now] * n, dtype="datetime64[us, UTC]"),
            "probability": probability,
            "is_ai": ai,
        }
    )


def land_tweets(warehouse: Warehouse, frame: pd.DataFrame, version: int = 0) -> TweetTables:
    """The test split, its classifications, the AI tweets and their links, as the tweet
    product writes them."""
    names = TweetTables("", version)
    split = frame.drop(columns=["probability", "is_ai"])
    tables.insert_new_rows(
        warehouse, names.split("test"), split, tables.SPLIT_COLUMNS, ("tweet_id",)
    )
    at = datetime(2026, 11, 21, tzinfo=UTC)
    classified = frame[["tweet_id", "probability"]].assign(
        is_ai=frame["probability"] >= 0.5,
        model_version=3,
        classified_at=pd.Series([at] * len(frame), dtype="datetime64[us, UTC]"),
    )
    tables.insert_new_rows(
        warehouse, names.classified, classified, tables.CLASSIFIED_COLUMNS, ("tweet_id",)
    )
    ai = frame[frame["probability"] >= 0.5].assign(
        model_version=3,
        classified_at=pd.Series([at] * len(frame), dtype="datetime64[us, UTC]"),
    )
    tables.insert_new_rows(warehouse, names.ai, ai, tables.AI_COLUMNS, ("tweet_id",))
    links = ai[["tweet_id", "entity_urls", "created_at"]].assign(
        url=ai["entity_urls"].str.split(" ").str[-1]
    )
    links = links.assign(
        domain=links["url"].str.split("/").str[2],
        original_url=links["url"],
        found_in="entities",
    )
    tables.insert_new_rows(warehouse, names.urls, links, tables.URL_COLUMNS, ("tweet_id", "url"))
    return names


def land_pairs(warehouse: Warehouse, pairs: int = 12, seed: int = 5) -> pd.DataFrame:
    """One recorded import batch of person records with a review queue of `pairs` uncertain
    pairs (half true matches), each with the explanation `em_review_queue` carries."""
    dataset = generate_person_records(60, 60, seed=seed, feedback_size=0)
    stamp = "2026-11-01T00:00:00.000000Z"
    warehouse.replace_rows("em_sources", dataset.sources.assign(modified_at=stamp), BATCH)
    warehouse.replace_rows("em_targets", dataset.targets.assign(modified_at=stamp), BATCH)
    rng = np.random.default_rng(seed)
    true = dataset.truth.head(pairs // 2)
    false = pd.DataFrame(
        {
            "source_id": dataset.truth["source_id"].iloc[pairs // 2 : pairs].to_numpy(),
            "target_id": dataset.targets["id"].sample(pairs - pairs // 2, random_state=seed),
        }
    )
    queue = pd.concat([true, false], ignore_index=True)[["source_id", "target_id"]]
    queue = queue.assign(
        probability=rng.uniform(0.1, 0.9, len(queue)),
        explanation="date_of_birth exact +7.5; surname ≥0.88 +2.9; address_2 ≥0.75 -1.4",
    )
    warehouse.replace_rows("em_review_queue", queue, BATCH)
    # the batch these rows came from, recorded as the import sensor records it (key = BATCH)
    batches.land(warehouse, batches.LANDING_SOURCES, dataset.sources.assign(modified_at=stamp))
    batches.land(warehouse, batches.LANDING_TARGETS, dataset.targets.assign(modified_at=stamp))
    batches.close_batch(warehouse, datetime(2026, 11, 1, tzinfo=UTC))
    return queue
