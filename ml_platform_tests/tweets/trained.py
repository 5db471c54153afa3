"""One small weak-supervision run (generated stream → splits → weak labels → classifier), trained
once per test session and shared by the tweet and serving tests: TensorFlow training is slow."""

import functools
from dataclasses import dataclass

import pandas as pd

from ml_platform.demo_data.tweets import generate_tweet_stream
from ml_platform.tweets import splits, training
from ml_platform.tweets.classifier import ClassifierConfig
from ml_platform.tweets.parsing import json_lines, read_json_lines

SIZES = splits.SplitSizes(test_size=400, dev_size=200, snorkel_train_size=1000)


@dataclass(frozen=True)
class Trained:
    tweets: pd.DataFrame  # de-duplicated, with `split` and the generator's `is_ai`
    golden: pd.DataFrame  # truth of test and dev, as people would have labelled them
    weak: training.WeakLabels
    result: training.TrainedClassifier


@functools.cache
def trained() -> Trained:
    stream = generate_tweet_stream(4000, seed=7)
    raw, _ = read_json_lines(json_lines(stream.messages), "generated", strict=True)
    tweets = splits.assign_splits(splits.deduplicate(raw), {}, SIZES, seed=7)
    tweets = tweets.merge(stream.truth, on="tweet_id")
    labelled = tweets[tweets["split"].isin(["test", "dev"])]
    golden = pd.DataFrame({"tweet_id": labelled["tweet_id"], "label": labelled["is_ai"]})
    weak = training.weak_labels(tweets, golden)
    result = training.train_tweet_classifier(
        tweets, weak.table, golden, ClassifierConfig(epochs=6), version=1, seed=7
    )
    return Trained(tweets, golden, weak, result)
