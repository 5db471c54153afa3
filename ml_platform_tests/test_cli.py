"""`ml-platform em link` as a person with two files uses it."""

import pandas as pd
import pytest

from ml_platform.cli import main
from ml_platform.demo_data.persons import generate_person_records, write_person_dataset
from ml_platform.entity_matching import matching


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("people")
    return write_person_dataset(
        folder, generate_person_records(800, 800, seed=11, feedback_size=80)
    )


def link(files, tmp_path, *extra: str) -> tuple[int, pd.DataFrame | None]:
    output = tmp_path / "matches.csv"
    code = main(
        [
            "em",
            "link",
            "--sources",
            str(files["sources"]),
            "--targets",
            str(files["targets"]),
            "--output",
            str(output),
            *extra,
        ]
    )
    return code, pd.read_csv(output, dtype=str) if output.exists() else None


def test_link_writes_scored_explained_matches_and_a_summary(files, tmp_path, capsys):
    code, matches = link(files, tmp_path)
    assert code == 0
    assert list(matches.columns) == ["source_id", "target_id", "score", "explanation"]
    truth = pd.read_csv(files["truth"], dtype=str)
    quality = matching.evaluate(matches, truth)
    assert quality["precision"] >= 0.98 and quality["recall"] >= 0.97
    summary = capsys.readouterr().out
    assert "candidate pairs" in summary and "matches" in summary and "blocking" in summary


def test_feedback_and_one_to_one_are_honoured(files, tmp_path):
    code, matches = link(files, tmp_path, "--feedback", str(files["feedback"]), "--one-to-one")
    assert code == 0
    assert not matches["target_id"].duplicated().any()


HEADER = (
    "id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,"
    "date_of_birth,soc_sec_id\n"
)


def write(path, text: str):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ("name,surname\nann,lee\n", ["sources.csv", "id"]),
        (
            HEADER + "a,ann,lee,1,x st,,y,2000,nsw,19800101,1234567\n"
            "a,bob,lee,1,x st,,y,2000,nsw,19800101,1234568\n",
            ["sources.csv", "line 3", "repeats id 'a'"],
        ),
        (
            HEADER + "a,ann,lee,1,x st,,y,2000,nsw,1/2/80,1234567\n",
            ["sources.csv", "line 2", "date_of_birth", "1/2/80"],
        ),
        ("", ["sources.csv", "empty"]),
    ],
    ids=["missing id column", "duplicate ids", "unparseable date", "empty file"],
)
def test_bad_files_get_a_message_naming_file_row_and_column(
    files, tmp_path, capsys, sources, expected
):
    bad = write(tmp_path / "sources.csv", sources)
    output = tmp_path / "out.csv"
    code = main(
        [
            "em",
            "link",
            "--sources",
            bad,
            "--targets",
            str(files["targets"]),
            "--output",
            str(output),
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and not output.exists()
    for fragment in expected:
        assert fragment.lower() in error.lower()


def test_feedback_naming_an_unknown_id_is_refused_with_its_row(files, tmp_path, capsys):
    bad = write(tmp_path / "feedback.csv", "source_id,target_id,label\nnobody,t0000001,1\n")
    code, _ = link(files, tmp_path, "--feedback", bad)
    error = capsys.readouterr().err
    assert code == 2 and "feedback.csv" in error and "nobody" in error and "source_id" in error


def test_a_schema_naming_a_column_the_file_lacks_is_refused(files, tmp_path, capsys):
    schema = write(tmp_path / "schema.yaml", "id_column: id\ncolumns:\n  nickname: name\n")
    code, _ = link(files, tmp_path, "--schema", schema)
    error = capsys.readouterr().err
    assert code == 2 and "nickname" in error
