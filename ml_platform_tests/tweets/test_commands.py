"""`ml-platform tweets train` then `classify`: a labelled file in, a SavedModel and a CSV out."""

import json

import pandas as pd
import pytest

from ml_platform import cli
from ml_platform.demo_data.tweets import generate_tweet_stream
from ml_platform.tweets.classifier import unpack_directory
from ml_platform.tweets.parsing import json_lines
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


@pytest.fixture
def model_directory(tmp_path, trained_classifier):
    """The session's trained classifier as a SavedModel directory (`--model DIR`)."""
    directory = tmp_path / "model" / "1"
    directory.mkdir(parents=True)
    unpack_directory(trained_classifier.result.classifier.saved_model, directory)
    return directory.parent


GOOD = {"id": "1", "text": "deep learning news", "created_at": "2026-01-01T00:00:00Z"}
ODD_LINES = [
    "{",
    "[" * 100_000 + "]" * 100_000,
    json.dumps({"data": GOOD, "includes": ["x"]}),
    json.dumps({"data": GOOD, "includes": {"users": 5}}),
    json.dumps({**GOOD, "referenced_tweets": 5}),
    json.dumps({**GOOD, "entities": {"urls": 7}}),
    json.dumps({"id_str": "6", "text": "x", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                "retweeted_status": {"id_str": "7", "text": "y", "user": "bob",
                                     "created_at": "Wed Oct 10 20:19:24 +0000 2018"}}),
    '{"id": ' + "9" * 5000 + "}",
    json.dumps({**GOOD, "text": "\ud800"}),
]  # fmt: skip


def test_classify_gives_every_line_an_output_row_or_a_rejected_line(
    tmp_path, model_directory, capsys
):
    """Before: the first odd line was a traceback (RecursionError, AttributeError, TypeError,
    ValueError, UnicodeEncodeError) and nothing was written."""
    lines = [json.dumps({**GOOD, "id": str(n)}) for n in range(1, 4)]
    lines[2:2] = ODD_LINES
    lines.insert(1, "")
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "classified.csv"

    code = cli.main([
        "tweets", "classify", "--input", str(source), "--model", str(model_directory),
        "--output", str(out),
    ])  # fmt: skip

    assert code == 0
    result = pd.read_csv(out, dtype={"id": str})
    rejected = pd.read_csv(tmp_path / "out" / "classified.rejected.csv", keep_default_na=False)
    assert result["id"].tolist() == ["1", "2", "3"]
    assert rejected["line"].tolist() == list(range(4, 4 + len(ODD_LINES)))
    assert (rejected["file"] == str(source)).all()
    assert rejected["error"].str.len().gt(0).all() and rejected["document"].iloc[0] == "{"
    assert len(result) + len(rejected) + 1 == len(lines)  # one blank line
    printed = capsys.readouterr()
    assert printed.out.startswith(f"{len(lines)} lines: 3 tweets classified")
    assert printed.out.rstrip().endswith(
        f"{len(ODD_LINES)} lines rejected → {out.parent / 'classified.rejected.csv'}; 1 blank"
    )
    assert f"rejected: {source}: line 4: not valid JSON" in printed.err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--output", "{tmp}", "--output {tmp} is a folder; it needs a file name"),
        (
            "--output",
            "{tmp}/in.jsonl/o.csv",
            "--output {tmp}/in.jsonl/o.csv: {tmp}/in.jsonl is a file, not a folder",
        ),
        ("--threshold", "nan", "argument --threshold: 'nan' is not a probability from 0 to 1"),
        ("--threshold", "2", "argument --threshold: '2' is not a probability from 0 to 1"),
        ("--input", "{tmp}/missing.jsonl", "{tmp}/missing.jsonl: file not found"),
    ],
)
def test_classify_refuses_bad_options_with_a_message_not_a_traceback(
    tmp_path, capsys, option, value, message
):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(GOOD) + "\n")
    arguments = {
        "--input": str(source),
        "--model": str(tmp_path),
        "--output": str(tmp_path / "o.csv"),
    }
    arguments[option] = value.format(tmp=tmp_path)

    try:
        code = cli.main(["tweets", "classify", *[x for pair in arguments.items() for x in pair]])
    except SystemExit as exit:  # argparse's own refusal of an option's value
        code = exit.code

    assert code == 2
    assert f"error: {message.format(tmp=tmp_path)}" in capsys.readouterr().err


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
