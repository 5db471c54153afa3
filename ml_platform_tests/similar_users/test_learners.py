"""The learner tables: written and read back unchanged, and loader errors that name the file,
line and column."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.demo_data.learners import generate_learners
from ml_platform.similar_users.learners import (
    TABLES,
    load_communities,
    load_learners,
    load_user_assessment_scores,
    write_learners,
)


@pytest.fixture(scope="module")
def generated():
    return generate_learners(800, seed=3)


def test_written_tables_load_back_unchanged(generated, tmp_path):
    write_learners(tmp_path, generated.tables, generated.communities)
    loaded = load_learners(tmp_path)
    for name in TABLES:
        expected = generated.tables.table(name)
        pd.testing.assert_frame_equal(loaded.table(name), expected, check_dtype=False)
    pd.testing.assert_frame_equal(load_communities(tmp_path), generated.communities)


def write(path, text: str):
    path.write_text(text)
    return path


HEADER = "user_handle,assessment_tag,user_assessment_date,user_assessment_score\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("1,css,2017-08-11 19:03:38,abc\n", "line 2: column 'user_assessment_score' is 'abc'"),
        ("1,css,2017-08-11,90\n2,css,yesterday,90\n", "line 3: column 'user_assessment_date'"),
        (",css,2017-08-11,90\n", "line 2: column 'user_handle' is empty"),
        (
            "1,css,2017-08-11,90\n1,sql,2017-08-11,-50\n",
            "line 3: column 'user_assessment_score' is '-50', expected a score from 0 to 300",
        ),
        ("1,css,2017-08-11,300.5\n", "line 2: column 'user_assessment_score' is '300.5'"),
    ],
)
def test_a_bad_value_names_the_file_line_and_column(tmp_path, rows, message):
    path = write(tmp_path / "user_assessment_scores.csv", HEADER + rows)
    with pytest.raises(InvalidInputError, match=message) as error:
        load_user_assessment_scores(path)
    assert str(path) in str(error.value)


def test_a_missing_column_or_file_is_named(tmp_path):
    path = write(tmp_path / "user_assessment_scores.csv", "user_handle,assessment_tag\n1,css\n")
    with pytest.raises(InvalidInputError, match=r"\['user_assessment_date'"):
        load_user_assessment_scores(path)
    with pytest.raises(InvalidInputError, match="course_tags.csv: file not found"):
        load_learners(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_handle,group\n1,web\n", r"column\(s\) \['community'\] are missing"),
        ("", "file is empty"),
        ("user_handle,community\n1,web\n2,\n", "line 3: column 'community' is empty"),
    ],
)
def test_bad_community_labels_are_an_error_naming_the_file_and_column(tmp_path, text, message):
    write(tmp_path / "user_communities.csv", text)
    with pytest.raises(InvalidInputError, match=message) as error:
        load_communities(tmp_path)
    assert "user_communities.csv" in str(error.value)


def test_community_labels_keep_the_generators_second_community(tmp_path):
    write(tmp_path / "user_communities.csv", "user_handle,community,second_community\n1,web,\n")
    labels = load_communities(tmp_path)
    assert labels.to_dict("records") == [
        {"user_handle": "1", "community": "web", "second_community": ""}
    ]
