"""`ml-platform tweets train` then `classify`: a labelled file in, a SavedModel and a CSV out."""

import json

import pandas as pd

from ml_platform import cli
from ml_platform.datasets.tweets import generate_tweet_stream, json_lines
from ml_platform.tweets.urls import normalise_url


def test_train_from_labelled_tweets_then_classify_a_file_with_that_model(tmp_path, capsys):
    stream = generate_tweet_stream(2500, seed=31)
    truth = stream.truth.set_index("tweet_id")["is_ai"]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        "".join(
            json_lines(
                {**m, "label": int(truth[int(m.get("id_str") or m["data"]["id"])])}
                for m in stream.messages[:2000]
            )
        )
    )
    serving = tmp_path / "serving"
    assert (
        cli.main(
            ["tweets", "train", "--input", str(labelled), "--output", str(serving), "--epochs", "6"]
        )
        == 0
    )
    report = capsys.readouterr().out
    assert "classifier" in report and "label_model" in report and "majority_vote" in report
    assert (serving / "1" / "saved_model.pb").is_file()

    unseen = tmp_path / "unseen.jsonl"
    unseen.write_text("".join(json_lines(stream.messages[2000:])))
    out = tmp_path / "out.csv"
    assert (
        cli.main(
            [
                "tweets",
                "classify",
                "--input",
                str(unseen),
                "--model",
                str(serving),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    result = pd.read_csv(out, dtype={"id": str}, keep_default_na=False)
    assert list(result.columns) == ["id", "probability", "is_ai", "urls"]
    assert len(result) == 500
    is_ai = result.set_index("id")["is_ai"]
    expected = truth[[int(i) for i in is_ai.index]].to_numpy().astype(bool)
    assert (is_ai.to_numpy() == expected).mean() > 0.9
    with_links = result[result["urls"] != ""]
    assert len(with_links) > 100
    assert all(normalise_url(u) == u for urls in with_links["urls"] for u in urls.split())


def test_a_bad_input_file_is_an_error_naming_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"id": "1", "text": "a", "created_at": "2026-01-01T00:00:00Z"}) + "\n{\n"
    )
    code = cli.main(
        [
            "tweets",
            "classify",
            "--input",
            str(bad),
            "--model",
            str(tmp_path),
            "--output",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 2
    assert "bad.jsonl: line 2: not valid JSON" in capsys.readouterr().err


def test_import_labels_adds_golden_labels_once(tmp_path, capsys):
    from ml_platform.core.warehouse import Warehouse
    from ml_platform.tweets import golden

    labels = tmp_path / "labels.csv"
    labels.write_text(
        "tweet_id,label,labelled_at\n11,1,2026-03-02T10:00:00Z\n12,0,2026-03-02T10:01:00Z\n"
    )
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    command = [
        "tweets",
        "import-labels",
        "--csv",
        str(labels),
        "--annotator",
        "ana",
        "--warehouse-url",
        url,
    ]
    assert cli.main(command) == 0
    assert cli.main(command) == 0
    assert "0 new golden labels of 2" in capsys.readouterr().out
    stored = golden.read(Warehouse(url=url), "golden_labels")
    assert sorted(zip(stored["tweet_id"], stored["label"], stored["annotator"])) == [
        (11, 1, "ana"), (12, 0, "ana"),
    ]  # fmt: skip
