"""What the API shows about a similar user: their most telling items per table, as text.

The original returned each user's `assessment_tag`, `course_id` and `interest_tag` lists as
comma-joined strings; so does this, capped at `max_items` per table, most telling first: best
scored assessments, longest watched courses, latest followed interests.
"""

import numpy as np
import pandas as pd

from ml_platform.similar_users.learners import LearnerTables

DISPLAY_COLUMNS = ("assessment_tag", "course_id", "interest_tag")


def _joined(frame: pd.DataFrame, column: str, order: str, max_items: int) -> pd.Series:
    ranked = frame.sort_values(["user_handle", order], ascending=[True, False], kind="stable")
    ranked = ranked.drop_duplicates(["user_handle", column])
    top = ranked.groupby("user_handle", sort=False).head(max_items)
    return top.groupby("user_handle", sort=True)[column].agg(",".join)


def user_display(tables: LearnerTables, users: np.ndarray, max_items: int = 10) -> pd.DataFrame:
    """One row per user of `users`: `user_handle` and the three display columns ('' if none)."""
    views = tables.user_course_views.groupby(["user_handle", "course_id"], as_index=False)[
        "view_time_seconds"
    ].sum()
    columns = {
        "assessment_tag": _joined(
            tables.user_assessment_scores, "assessment_tag", "user_assessment_score", max_items
        ),
        "course_id": _joined(views, "course_id", "view_time_seconds", max_items),
        "interest_tag": _joined(tables.user_interests, "interest_tag", "date_followed", max_items),
    }
    display = pd.DataFrame({"user_handle": pd.Series(users, dtype="str")})
    for name, values in columns.items():
        display[name] = display["user_handle"].map(values.astype("str")).fillna("").astype("str")
    return display
