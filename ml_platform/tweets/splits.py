"""De-duplication on text and the four versioned splits, both stable as the stream grows.

The original pipeline de-duplicated on text and cut a static table into test (1,000), dev (500),
snorkel_train (10K) and train (the rest). On a stream, a tweet must keep its split forever (a
test tweet that later moved to train would leak), so splits are assigned once per text: new
texts fill test, then dev, then snorkel_train up to their sizes, in a seeded random order, and
everything after goes to train.
"""

import hashlib
import re

import numpy as np
import pandas as pd

from ml_platform.core.config import ConfigModel

_RETWEET_PREFIX = re.compile(r"^rt @\w+:\s*")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@\w+")
_TRAILING_VIA = re.compile(r"\s+via\s*$")
_NOT_WORD = re.compile(r"[^\w#]+")


def text_key(text: str) -> str:
    """What two near-duplicates share: the words, without retweet prefix, links, mentions,
    "via @user", case or punctuation (hashed: an index over short keys stays small)."""
    normalised = _RETWEET_PREFIX.sub("", text.lower())
    normalised = _MENTION.sub(" ", _URL.sub(" ", normalised))
    normalised = _NOT_WORD.sub(" ", normalised)
    normalised = _TRAILING_VIA.sub("", normalised).strip()
    return hashlib.sha1(normalised.encode()).hexdigest()


def with_text_keys(tweets: pd.DataFrame) -> pd.DataFrame:
    return tweets.assign(text_key=pd.array([text_key(t) for t in tweets["text"]], dtype="str"))


def deduplicate(
    tweets: pd.DataFrame, known_keys: set[str] | frozenset[str] = frozenset()
) -> pd.DataFrame:
    """One tweet per text key, the earliest (smallest id), leaving out keys already known."""
    keyed = with_text_keys(tweets).sort_values("tweet_id", kind="stable")
    first = keyed.drop_duplicates("text_key", keep="first")
    return first[~first["text_key"].isin(known_keys)].reset_index(drop=True)


class SplitSizes(ConfigModel):
    """How many texts test, dev and snorkel_train take before train gets the rest (also the
    tweets resource's config keys of the same names)."""

    test_size: int = 1000
    dev_size: int = 500
    snorkel_train_size: int = 10_000

    def capacity(self, split: str) -> int | None:
        return None if split == "train" else getattr(self, f"{split}_size")


def assign_splits(
    new: pd.DataFrame, filled: dict[str, int], sizes: SplitSizes, seed: int
) -> pd.DataFrame:
    """`new` de-duplicated tweets with a `split` column, given how many each split already
    holds. Order is a seeded hash of the tweet id, so the same tweets always split the same
    way, whatever batches they arrived in."""
    order = np.argsort(
        [_seeded_hash(seed, tweet_id) for tweet_id in new["tweet_id"]], kind="stable"
    )
    shuffled = new.iloc[order].reset_index(drop=True)
    labels = np.full(len(shuffled), "train", dtype=object)
    start = 0
    for split in ("test", "dev", "snorkel_train"):
        room = max(0, (sizes.capacity(split) or 0) - filled.get(split, 0))
        take = min(room, len(shuffled) - start)
        labels[start : start + take] = split
        start += take
    return shuffled.assign(split=pd.array(labels, dtype="str"))


def _seeded_hash(seed: int, tweet_id: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{tweet_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
