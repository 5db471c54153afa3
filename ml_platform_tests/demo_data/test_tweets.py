"""The generator writes a realistic stream in both Twitter API shapes, its truth kept apart."""

import pandas as pd
import pytest

from ml_platform.demo_data.tweets import generate_tweet_stream, write_tweet_stream
from ml_platform.tweets.parsing import (
    json_lines,
    load_truth,
    load_tweets,
    read_json_lines,
)


@pytest.fixture(scope="module")
def stream():
    return generate_tweet_stream(3000, seed=11)


def test_the_same_seed_generates_the_same_stream(stream):
    again = generate_tweet_stream(3000, seed=11)
    assert again.messages == stream.messages
    assert generate_tweet_stream(3000, seed=12).messages != stream.messages


def test_the_generated_stream_looks_like_a_filtered_twitter_stream(stream):
    tweets, problems = read_json_lines(json_lines(stream.messages), "generated", strict=True)
    truth = stream.truth.set_index("tweet_id")["is_ai"]
    assert not problems and tweets["tweet_id"].is_unique
    assert set(tweets["tweet_id"]) == set(truth.index)
    assert 0.2 < truth.mean() < 0.45  # AI tweets are a minority of the stream
    assert set(tweets["source_format"]) == {"v1.1", "v2"}
    assert {"en", "es", "fr", "de", "pt"} <= set(tweets["lang"])
    retweets = tweets[tweets["retweeted_id"].notna()]
    assert 0.05 < len(retweets) / len(tweets) < 0.15
    assert retweets["text"].str.startswith("RT @").all()
    # a retweet has its original's truth
    assert (
        truth[retweets["tweet_id"]].to_numpy() == truth[retweets["retweeted_id"]].to_numpy()
    ).all()
    not_ai = tweets[~tweets["tweet_id"].map(truth).astype(bool)]
    lookalikes = not_ai["text"].str.contains(
        r"data plan|neural|model|python|Transformers", case=False
    )
    assert lookalikes.sum() > 50  # AI words in tweets that are not about AI
    assert tweets["entity_urls"].ne("").mean() > 0.3
    assert tweets["text"].str.contains("#").mean() > 0.2


def test_written_stream_lands_in_name_order_with_truth_kept_apart(tmp_path, stream):
    landing = tmp_path / "landing"
    files = write_tweet_stream(landing, stream, tweets_per_file=1000)
    assert [f.name for f in files] == sorted(f.name for f in landing.iterdir())
    assert len(files) == 3
    loaded = pd.concat([load_tweets(f) for f in files], ignore_index=True)
    assert len(loaded) == 3000
    truth = load_truth(tmp_path / "landing-truth.csv")
    assert truth.equals(stream.truth)
