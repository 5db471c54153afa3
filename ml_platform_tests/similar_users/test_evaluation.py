"""The evaluation's parts on cases small enough to check by hand, and its verdict on real runs."""

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.similar_users import checks, evaluation
from ml_platform.similar_users.fasttext_models import train_models
from ml_platform.similar_users.learners import LearnerTables
from ml_platform.similar_users.user_vectors import embed_users
from ml_platform_tests.similar_users.trained import FASTTEXT, trained


def tiny_tables() -> LearnerTables:
    interests = pd.DataFrame(
        {
            "user_handle": ["a"] * 4 + ["b"] * 4 + ["c"] * 1,
            "interest_tag": ["x1", "x2", "x3", "x4", "x1", "x2", "x3", "x5", "y1"],
            "date_followed": pd.Timestamp("2020-01-01", tz="UTC"),
        }
    )
    views = pd.DataFrame(
        {
            "user_handle": ["a", "a", "c"],
            "view_date": pd.Timestamp("2020-01-01", tz="UTC"),
            "course_id": ["c1", "c2", "c3"],
            "author_handle": "1",
            "level": "Beginner",
            "view_time_seconds": 60,
        }
    )
    scores = pd.DataFrame(
        {
            "user_handle": pd.Series(dtype="str"),
            "assessment_tag": pd.Series(dtype="str"),
            "user_assessment_date": pd.Series(dtype="datetime64[us, UTC]"),
            "user_assessment_score": pd.Series(dtype="float64"),
        }
    )
    tags = pd.DataFrame({"course_id": ["c1", "c2", "c3"], "course_tags": ["x", "x", "y"]})
    return LearnerTables(tags, scores, views, interests)


def test_half_of_each_sampled_users_interests_and_courses_is_hidden_and_only_those():
    tables = tiny_tables()
    split = evaluation.hide_items(tables, users=10, seed=1)

    hidden = split.hidden.groupby(["user_handle", "table"]).size().to_dict()
    # a and b have 4 interests (2 hidden each), a 2 courses (1 hidden); c has one of each: none
    assert hidden == {
        ("a", "user_interests"): 2,
        ("b", "user_interests"): 2,
        ("a", "user_course_views"): 1,
    }
    visible = split.visible.user_interests
    assert len(visible) == len(tables.user_interests) - 4
    merged = visible.merge(
        split.hidden.rename(columns={"item": "interest_tag"}), on=["user_handle", "interest_tag"]
    )
    assert merged.empty


def test_a_hidden_item_counts_when_a_neighbours_profile_holds_it():
    tables = tiny_tables()
    handles = tables.users()
    profiles, names = evaluation.profile_matrix(tables, handles, ["user_interests"])
    hidden = pd.DataFrame(
        {"user_handle": ["a", "a"], "table": "user_interests", "item": ["x5", "y1"]}
    )
    b, c = list(handles).index("b"), list(handles).index("c")

    assert evaluation.hit_rate(np.array([[b]]), np.array(["a"]), hidden, profiles, names) == 0.5
    both = evaluation.hit_rate(np.array([[b, c]]), np.array(["a"]), hidden, profiles, names)
    assert both == 1.0


def test_community_precision_counts_same_community_neighbours():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    handles = np.array(["1", "2", "3", "4"])
    labels = pd.DataFrame({"user_handle": handles, "community": ["a", "a", "b", "a"]})

    precision = evaluation.community_precision(handles, vectors, labels, k=1, sample=None)

    assert precision == 0.5  # 1↔2 right, 3↔4 wrong both ways


def test_on_generated_data_embeddings_beat_random_users_and_say_how_big_neighbours_are():
    def embed(visible):
        embeddings = embed_users(visible, train_models(visible, FASTTEXT))
        return embeddings.handles, embeddings.similarity

    figures = evaluation.leave_out_evaluation(trained().data.tables, embed, users=200, seed=3)
    assert figures["hit_rate"] > figures["random_hit_rate"] + 0.1
    assert {"jaccard_hit_rate", "tfidf_hit_rate", "jaccard_neighbour_profile_items"} <= set(figures)
    # the heaviest users are the same for everyone, and the biggest profiles there are
    assert figures["heaviest_neighbour_profile_items"] > figures["tfidf_neighbour_profile_items"]
    assert figures["leave_out_users"] == 200


FIGURES = {"hit_rate": 0.70, "jaccard_hit_rate": 0.73, "tfidf_hit_rate": 0.77}


def test_the_baseline_gate_fails_a_model_below_tfidf_and_blocks_only_from_its_minimum_users():
    gate = checks.beats_profile_baselines("gate", {**FIGURES, "leave_out_users": 943})
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.ERROR
    assert gate.metadata["best_baseline"].value == "tfidf"

    few = checks.beats_profile_baselines("gate", {**FIGURES, "leave_out_users": 150})
    assert not few.passed and few.severity == dg.AssetCheckSeverity.WARN

    above_jaccard_only = {**FIGURES, "hit_rate": 0.75, "leave_out_users": 943}
    assert not checks.beats_profile_baselines("gate", above_jaccard_only).passed
    better = {**FIGURES, "hit_rate": 0.80, "leave_out_users": 943}
    assert checks.beats_profile_baselines("gate", better).passed
