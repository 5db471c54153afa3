"""Tweets in both Twitter API shapes load to one table; a bad line is named, not a traceback."""

import json
import re

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.tweets.parsing import (
    TWEET_COLUMNS,
    load_tweets,
    read_json_lines,
    read_messages,
)

V1_EXTENDED = {
    "created_at": "Wed Oct 10 20:19:24 +0000 2018",
    "id": 1050118621198921728,
    "id_str": "1050118621198921728",
    "full_text": "Fine-tuning a 7B model on support tickets https://t.co/abc123",
    "entities": {
        "urls": [{"url": "https://t.co/abc123", "expanded_url": "https://arxiv.org/abs/2401.1"}]
    },
    "user": {"id_str": "1", "screen_name": "ana"},
    "lang": "en",
}
V1_COMPATIBILITY = {
    "created_at": "Wed Oct 10 20:20:00 +0000 2018",
    "id_str": "1050118621198921729",
    "text": "A long tweet cut at 140 characters…",
    "truncated": True,
    "extended_tweet": {
        "full_text": "A long tweet cut at 140 characters, whole here #AI https://t.co/x",
        "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": "https://hf.co/blog"}]},
    },
    "user": {"screen_name": "ben"},
    "lang": "en",
}
V1_RETWEET = {
    "created_at": "Wed Oct 10 20:21:00 +0000 2018",
    "id_str": "1050118621198921730",
    "full_text": "RT @ana: Fine-tuning a 7B model on support tick…",
    "entities": {"urls": []},
    "user": {"screen_name": "chen"},
    "lang": "en",
    "retweeted_status": V1_EXTENDED,
}
V2_ENVELOPE = {
    "data": {
        "id": "1445880548472328192",
        "text": "Hola, aprendizaje automático en producción https://t.co/y",
        "created_at": "2021-10-06T22:16:58.000Z",
        "author_id": "2244994945",
        "lang": "es",
        "entities": {"urls": [{"url": "https://t.co/y", "expanded_url": "https://kaggle.com/c"}]},
        "referenced_tweets": [{"type": "retweeted", "id": "1445880548472328100"}],
    },
    "includes": {"users": [{"id": "2244994945", "username": "TwitterDev"}]},
}
V2_PAGE = {
    "data": [
        {"id": "11", "text": "first", "created_at": "2021-10-06T22:16:58Z"},
        {
            "id": "12",
            "text": "short",
            "note_tweet": {"text": "the long version"},
            "created_at": "2021-10-06T22:17:00Z",
        },
    ]
}


def write_lines(path, documents) -> str:
    path.write_text("\n".join(d if isinstance(d, str) else json.dumps(d) for d in documents))
    return str(path)


def test_both_api_versions_load_to_one_table(tmp_path):
    tweets = load_tweets(
        write_lines(
            tmp_path / "t.jsonl",
            [V1_EXTENDED, V1_COMPATIBILITY, V1_RETWEET, V2_ENVELOPE, "", V2_PAGE],
        )
    )
    assert list(tweets.columns) == list(TWEET_COLUMNS)
    assert tweets["tweet_id"].tolist() == [
        1050118621198921728, 1050118621198921729, 1050118621198921730,
        1445880548472328192, 11, 12,
    ]  # fmt: skip
    by_id = tweets.set_index("tweet_id")
    assert by_id.loc[1050118621198921729, "text"].endswith("whole here #AI https://t.co/x")
    assert by_id.loc[1050118621198921729, "entity_urls"] == "https://hf.co/blog"
    # a retweet's own text is cut: the original's full text and links are used
    assert by_id.loc[1050118621198921730, "text"] == "RT @ana: " + V1_EXTENDED["full_text"]
    assert by_id.loc[1050118621198921730, "retweeted_id"] == 1050118621198921728
    assert by_id.loc[1050118621198921730, "entity_urls"] == "https://arxiv.org/abs/2401.1"
    assert by_id.loc[1445880548472328192, "user_screen_name"] == "TwitterDev"
    assert by_id.loc[1445880548472328192, "retweeted_id"] == 1445880548472328100
    assert by_id.loc[1445880548472328192, "lang"] == "es"
    assert by_id.loc[12, "text"] == "the long version"
    assert by_id.loc[11, "lang"] == "und"
    assert by_id.loc[1050118621198921728, "created_at"] == pd.Timestamp(
        "2018-10-10 20:19:24", tz="UTC"
    )
    assert tweets["source_format"].tolist() == ["v1.1"] * 3 + ["v2"] * 3


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "line 2: not valid JSON"),
        (json.dumps({"id_str": "12x", "text": "a", "user": {}}), "line 2: field 'id_str'"),
        (json.dumps({"id": "5", "created_at": "2021-01-01T00:00:00Z"}), "line 2: field 'text'"),
        (
            json.dumps({"id": "5", "text": "a", "created_at": "yesterday"}),
            "line 2: field 'created_at'",
        ),
        (json.dumps({"data": []}), "line 2: field 'data'"),
        (json.dumps([1, 2]), "line 2: field '(message)'"),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_field(tmp_path, line, expected):
    path = write_lines(tmp_path / "bad.jsonl", [V2_PAGE["data"][0], line])
    with pytest.raises(InvalidInputError, match=re.escape(f"bad.jsonl: {expected}")):
        load_tweets(path)


def test_lenient_reading_keeps_good_lines_and_reports_each_bad_one():
    lines = [
        json.dumps(V1_EXTENDED),
        "{oops",
        json.dumps({**V2_PAGE["data"][0], "created_at": "x"}),
    ]
    tweets, problems = read_json_lines(lines, "landing/f.jsonl", strict=False)
    assert tweets["tweet_id"].tolist() == [1050118621198921728]
    assert str(problems[0]).startswith("landing/f.jsonl: line 2: not valid JSON")
    assert str(problems[1]).startswith("landing/f.jsonl: line 3: field 'created_at' is 'x'")
    assert [(p.origin, p.line, p.document) for p in problems] == [
        ("landing/f.jsonl", 2, "{oops"),
        ("landing/f.jsonl", 3, lines[2]),
    ]


def test_stream_messages_keep_which_message_each_tweet_came_from():
    tweets, problems, message = read_messages(
        [json.dumps(V2_PAGE), b"{", json.dumps(V1_EXTENDED)], ["t/0/1", "t/0/2", "t/0/3"]
    )
    assert tweets["tweet_id"].tolist() == [11, 12, 1050118621198921728]
    assert message.tolist() == [0, 0, 2]
    assert len(problems) == 1 and str(problems[0]).startswith("t/0/2: not valid JSON")
    assert (problems[0].origin, problems[0].line, problems[0].document) == ("t/0/2", None, "{")


GOOD = {"id": "5", "text": "hello", "created_at": "2026-03-02T10:00:00Z"}
SMALL_RETWEET = {
    "id_str": "6",
    "text": "RT @bob: y",
    "created_at": "Wed Oct 10 20:19:24 +0000 2018",
    "retweeted_status": {
        "id_str": "7",
        "text": "y",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
    },
}


def _nested_retweets(depth: int) -> dict:
    tweet = dict(SMALL_RETWEET["retweeted_status"])
    for n in range(depth):
        tweet = {**SMALL_RETWEET, "id_str": str(100 + n), "retweeted_status": tweet}
    return tweet


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON (nested deeper than 64 levels)"),
        (json.dumps({"data": GOOD, "includes": [1]}), "field 'includes' is a JSON array"),
        (json.dumps({"data": GOOD, "includes": {"users": 5}}), "field 'includes.users' is a JSON number"),
        (json.dumps({**GOOD, "referenced_tweets": 5}), "field 'referenced_tweets' is a JSON number"),
        (json.dumps({**GOOD, "entities": {"urls": 7}}), "field 'entities.urls' is a JSON number"),
        (json.dumps({**GOOD, "entities": {"urls": [{"expanded_url": {}}]}}),
         "field 'entities.urls[].expanded_url' is {}, expected a string"),
        (json.dumps({**SMALL_RETWEET, "retweeted_status": {**SMALL_RETWEET["retweeted_status"], "user": "bob"}}),
         "field 'retweeted_status.user' is a JSON string, expected an object"),
        (json.dumps({**SMALL_RETWEET, "user": ["bob"]}), "field 'user' is a JSON array"),
        ('{"id": ' + "9" * 5000 + "}", "not valid JSON (Exceeds the limit (4300 digits)"),
        (json.dumps({**GOOD, "text": "\ud800"}), "field 'text' contains a lone surrogate ('\\ud800')"),
        (json.dumps({**GOOD, "text": "a\u0000b"}), "field 'text' contains a NUL character"),
        (b'{"id": "5", "text": "\xff"}', "not valid JSON ('utf-8' codec can't decode byte 0xff"),
        (json.dumps({**GOOD, "text": "x" * 10_000, "lang": 3}), "field 'lang' is 3, expected a string"),
    ],
)  # fmt: skip
def test_a_line_of_an_odd_shape_is_one_clear_rejection_not_a_traceback(line, problem):
    """Each of these raised RecursionError, AttributeError, TypeError, ValueError or
    UnicodeEncodeError out of the reader, stopping the stream at the line for good."""
    tweets, rejected = read_json_lines([json.dumps(GOOD), line], "landing/f.jsonl", strict=False)

    assert tweets["tweet_id"].tolist() == [5]
    assert len(rejected) == 1 and rejected[0].line == 2
    assert str(rejected[0]).startswith(f"landing/f.jsonl: line 2: {problem}")
    assert len(str(rejected[0])) < 300  # the value is quoted short, not copied whole


def test_nested_retweets_are_read_one_level_deep_without_recursion():
    """A retweet's `retweeted_status` is the original; anything nested under it is ignored
    (the API never sets it), so nesting cannot drive the parser into deep recursion."""
    tweets, rejected = read_json_lines([json.dumps(_nested_retweets(40))], "f", strict=False)

    assert rejected == []
    assert tweets["tweet_id"].tolist() == [139] and tweets["retweeted_id"].tolist() == [138]
    assert tweets["text"].tolist() == ["RT @: RT @bob: y"]


def test_strict_loading_names_the_line_of_an_odd_shape(tmp_path):
    path = write_lines(tmp_path / "odd.jsonl", [GOOD, {**GOOD, "referenced_tweets": 5}])
    with pytest.raises(InvalidInputError, match="odd.jsonl: line 2: field 'referenced_tweets'"):
        load_tweets(path)


def test_training_files_need_a_label_on_every_tweet(tmp_path):
    labelled = [{**V2_PAGE["data"][0], "label": "ai"}, {**V2_PAGE["data"][1], "label": 0}]
    tweets = load_tweets(write_lines(tmp_path / "ok.jsonl", labelled), require_label=True)
    assert tweets["label"].tolist() == [1, 0]
    unlabelled = write_lines(tmp_path / "missing.jsonl", [labelled[0], V2_PAGE["data"][1]])
    with pytest.raises(InvalidInputError, match="missing.jsonl: tweet 2 .*'label' is missing"):
        load_tweets(unlabelled, require_label=True)
    wrong = write_lines(tmp_path / "wrong.jsonl", [{**labelled[0], "label": "maybe"}])
    with pytest.raises(InvalidInputError, match="wrong.jsonl: line 1: field 'label'"):
        load_tweets(wrong, require_label=True)
