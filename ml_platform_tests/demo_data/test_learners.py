"""Generated learner tables have the public data's shape and its community structure."""

import pandas as pd
import pytest

from ml_platform.demo_data.learners import COMMUNITY_TAGS, HARD, generate_learners
from ml_platform.similar_users.learners import (
    COLUMNS,
    TABLES,
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
