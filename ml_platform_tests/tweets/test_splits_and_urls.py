"""De-duplication, stable splits, and link extraction: pure functions on made-up tweets."""

import pandas as pd

from ml_platform.tweets.splits import SplitSizes, assign_splits, deduplicate, text_key
from ml_platform.tweets.urls import extract_urls, links_of, normalise_url


def test_near_duplicates_share_a_text_key_and_different_words_do_not():
    original = "Fine-tuning LLMs is easier than you think #AI https://t.co/abc"
    for copy in (
        "RT @ana: Fine-tuning LLMs is easier than you think #AI https://t.co/xyz",
        "@ben fine-tuning LLMs is easier than you think!! #AI via @chen",
        "FINE-TUNING LLMS IS EASIER THAN YOU THINK #AI",
    ):
        assert text_key(copy) == text_key(original)
    assert text_key("Fine-tuning LLMs is harder than you think #AI") != text_key(original)


def test_deduplication_keeps_the_first_tweet_and_skips_known_texts():
    tweets = pd.DataFrame(
        {"tweet_id": [3, 1, 2], "text": ["hello world", "Hello, world!", "something else"]}
    )
    kept = deduplicate(tweets)
    assert kept["tweet_id"].tolist() == [1, 2]
    assert deduplicate(tweets, known_keys={text_key("hello world")})["tweet_id"].tolist() == [2]


def test_splits_fill_test_dev_snorkel_train_then_train_and_never_move_a_tweet():
    tweets = pd.DataFrame({"tweet_id": range(100), "text": [f"t{i}" for i in range(100)]})
    sizes = SplitSizes(test_size=10, dev_size=5, snorkel_train_size=20)
    first = assign_splits(tweets.iloc[:30], {}, sizes, seed=1)
    assert first["split"].value_counts().to_dict() == {"test": 10, "snorkel_train": 15, "dev": 5}
    second = assign_splits(tweets.iloc[30:], first["split"].value_counts().to_dict(), sizes, 1)
    assert second["split"].value_counts().to_dict() == {"train": 65, "snorkel_train": 5}
    # the same tweets split the same way whatever order they arrive in
    shuffled = assign_splits(tweets.iloc[:30].sample(frac=1, random_state=0), {}, sizes, seed=1)
    assert shuffled.set_index("tweet_id")["split"].equals(first.set_index("tweet_id")["split"])


def test_urls_are_normalised_to_one_form_per_page():
    assert normalise_url("HTTPS://WWW.Example.com:443/a/b/?utm_source=tw&x=2&a=1#top") == (
        "https://example.com/a/b?a=1&x=2"
    )
    assert normalise_url("http://example.com:8080/") == "http://example.com:8080"
    assert normalise_url("ftp://example.com/file") is None
    assert normalise_url("https://localhost/x") is None


def test_short_links_defer_to_the_entities_and_each_link_counts_once_per_tweet():
    text = "Paper https://t.co/abc and repo https://github.com/ana/repo/ (mirror) https://t.co/abc"
    entities = "https://arxiv.org/abs/2401.00001?utm_medium=social https://github.com/ana/repo"
    links = links_of(text, entities)
    assert [(url, where) for url, _, where in links] == [
        ("https://arxiv.org/abs/2401.00001", "entities"),
        ("https://github.com/ana/repo", "entities"),
    ]
    # without entities the short link is all there is
    assert [url for url, _, _ in links_of("see https://t.co/abc.", "")] == ["https://t.co/abc"]


def test_extracted_urls_link_to_their_tweet_with_the_domain():
    tweets = pd.DataFrame(
        {
            "tweet_id": [7, 8],
            "text": ["no links here", "look https://huggingface.co/blog/x"],
            "entity_urls": ["", ""],
            "created_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        }
    )
    found = extract_urls(tweets)
    assert found[["tweet_id", "url", "domain", "found_in"]].values.tolist() == [
        [8, "https://huggingface.co/blog/x", "huggingface.co", "text"]
    ]
