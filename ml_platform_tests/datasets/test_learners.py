"""The learner tables: generated with the public data's shape and structure, written and read
back unchanged, and loader errors that name the file, line and column."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.datasets.learners import (
    COLUMNS,
    COMMUNITY_TAGS,
    HARD,
    TABLES,
    generate_learners,
    load_communities,
    load_learners,
    load_user_assessment_scores,
    write_learners,
)


@pytest.fixture(scope="module")
def generated():
    return generate_learners(800, seed=3)


def test_the_same_seed_gives_the_same_tables_and_another_seed_others():
    first, again, other = (generate_learners(100, seed=s) for s in (1, 1, 2))
    for name in TABLES:
        pd.testing.assert_frame_equal(first.tables.table(name), again.tables.table(name))
    assert not first.tables.user_interests.equals(other.tables.user_interests)


def test_tables_have_the_public_columns_and_types(generated):
    tables = generated.tables
    for name in TABLES:
        assert tuple(tables.table(name).columns) == COLUMNS[name]
    scores = tables.user_assessment_scores["user_assessment_score"]
    assert scores.between(0, 300).all() and 120 < scores.mean() < 200
    assert str(tables.user_interests["date_followed"].dtype) == "datetime64[us, UTC]"
    assert set(tables.user_course_views["level"]) == {"Beginner", "Intermediate", "Advanced"}
    assert (tables.user_course_views["view_time_seconds"] > 0).all()


def test_course_ids_are_slugs_and_tags_are_shared_across_tables(generated):
    tables = generated.tables
    courses = tables.course_tags["course_id"]
    assert courses.str.fullmatch(r"[a-z0-9+#]+(-[a-z0-9+#]+)+").all()
    assert tables.user_course_views["course_id"].isin(courses).all()
    interests = set(tables.user_interests["interest_tag"])
    course_tags = set(tables.course_tags["course_tags"]) - {""}
    assessed = set(tables.user_assessment_scores["assessment_tag"])
    assert "python" in interests & course_tags & assessed
    assert (tables.course_tags["course_tags"] == "").any()  # a few courses are untagged


def test_activity_has_a_long_tail_and_users_miss_tables(generated):
    tables = generated.tables
    per_user = tables.user_interests.groupby("user_handle").size()
    assert per_user.max() > 4 * per_user.median()
    users = set(tables.users())
    assert len(users) > 780
    assert set(tables.user_assessment_scores["user_handle"]) < users  # ~30% took one
    assert set(tables.user_course_views["user_handle"]) < users


def in_community(tag: str, community: str) -> bool:
    return any(tag == c or tag.startswith(c + "-") for c in COMMUNITY_TAGS[community])


def own_community_share(data) -> pd.Series:
    """Per user, the share of their interests in their (first) community's tags."""
    interests = data.tables.user_interests.merge(data.communities, on="user_handle")
    interests["own"] = [
        in_community(tag, community)
        for tag, community in zip(interests["interest_tag"], interests["community"], strict=True)
    ]
    return interests.groupby("user_handle")["own"].mean()


def test_users_mostly_follow_their_own_communitys_tags(generated):
    interests = generated.tables.user_interests
    # heavy users run out of their community's tags and follow more widely
    assert own_community_share(generated).median() >= 0.75
    game = [in_community(t, "game-development") for t in interests["interest_tag"]]
    assert sum(game) / len(game) < 0.1


def test_the_hard_shape_blurs_communities_and_spreads_activity_wider(generated):
    hard = generate_learners(800, seed=3, shape=HARD)

    assert own_community_share(hard).median() < own_community_share(generated).median() - 0.1
    views = [
        d.tables.user_course_views.drop_duplicates(["user_handle", "course_id"])
        .groupby("user_handle")
        .size()
        for d in (generated, hard)
    ]
    assert views[1].max() / views[1].median() > 1.5 * views[0].max() / views[0].median()


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
