"""Golden labels: what people say a tweet is, the ground truth the labeller and the classifier
are judged against.

The contract (for the labelling UI and anyone else who writes labels) is the warehouse table
`<prefix>golden_labels`, one row per judgement, never updated in place:

| column | type | meaning |
|---|---|---|
| tweet_id | BIGINT | the tweet judged (any version's tables: ids are global) |
| label | BIGINT | 1 = about AI, 0 = not, NULL = the annotator withdrew their label |
| annotator | TEXT | who judged (a login, "csv-import", …) |
| labelled_at | TIMESTAMPTZ | when; a correction is a newer row by the same annotator |
| source | TEXT | "ui", "csv:<file name>", "generator-truth" |
| note | TEXT, nullable | free text |

(tweet_id, annotator, labelled_at) is unique, so writing the same judgement twice (a retried
request, a re-imported CSV) stores it once. Resolution (`resolve`): each annotator's latest
label counts; annotators disagreeing are settled by majority, a tie by the latest label.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator
from ml_platform.core.warehouse import Warehouse
from ml_platform.tweets import tables
from ml_platform.tweets.contract import GOLDEN_KEY
from ml_platform.tweets.tables import GOLDEN_COLUMNS

_LABELS = {"1": 1, "0": 0, "ai": 1, "not_ai": 0, "true": 1, "false": 0}


def load_golden_csv(path: str | Path, annotator: str = "csv-import") -> pd.DataFrame:
    """Golden labels from a CSV with `tweet_id,label` and optionally `annotator`, `labelled_at`
    (ISO 8601) and `note`. Without `labelled_at` every row gets the file's modification time,
    so importing the same file again adds nothing."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"tweet_id", "label"} - set(frame.columns)
    if missing:
        raise InvalidInputError(
            f"{path}: missing column(s) {sorted(missing)}; expected tweet_id,label"
            "[,annotator,labelled_at,note]"
        )
    rows = RowLocator(str(path), first_line=2)
    labels = frame["label"].str.strip().str.lower().map(_LABELS)
    rows.fail_on_first(
        labels.isna(), "column 'label' is '{value}', expected 1/0 or ai/not_ai", frame["label"]
    )
    if "labelled_at" in frame:
        labelled_at = pd.to_datetime(
            frame["labelled_at"], utc=True, errors="coerce", format="ISO8601"
        )
        rows.fail_on_first(
            labelled_at.isna(),
            "column 'labelled_at' is '{value}', expected ISO 8601 (2026-03-02T10:00:00Z)",
            frame["labelled_at"],
        )
    else:
        labelled_at = pd.Series(
            pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC"), index=frame.index
        )
    annotators = (
        frame["annotator"].str.strip()
        if "annotator" in frame
        else pd.Series(annotator, index=frame.index)
    )
    rows.fail_on_first(annotators == "", "column 'annotator' is empty")
    return pd.DataFrame(
        {
            "tweet_id": rows.integers(frame["tweet_id"].str.strip(), "tweet_id"),
            "label": labels.astype("int64"),
            "annotator": annotators.astype("str"),
            "labelled_at": labelled_at,
            "source": f"csv:{path.name}",
            "note": frame["note"].astype("str")
            if "note" in frame
            else pd.Series(None, index=frame.index, dtype="str"),
        }
    )


def store(warehouse: Warehouse, table: str, labels: pd.DataFrame) -> int:
    """Add judgements to the golden table; the number that were new."""
    rows = labels.copy()
    if "note" not in rows:
        rows["note"] = pd.Series(None, index=rows.index, dtype="str")
    return tables.insert_new_rows(warehouse, table, rows, GOLDEN_COLUMNS, GOLDEN_KEY)


def read(warehouse: Warehouse, table: str) -> pd.DataFrame:
    return tables.read_rows(warehouse, table)


def resolve(judgements: pd.DataFrame) -> pd.DataFrame:
    """One label per tweet: `tweet_id, label, annotators, agreement, labelled_at`.

    An annotator's latest row counts; a row with no label withdraws that annotator's label
    (the labelling UI writes one when someone undoes a label), and a tweet nobody labels any
    more has no golden label.
    """
    columns = ["tweet_id", "label", "annotators", "agreement", "labelled_at"]
    latest = judgements.sort_values("labelled_at", kind="stable").drop_duplicates(
        ["tweet_id", "annotator"], keep="last"
    )
    latest = latest[latest["label"].notna()]
    if latest.empty:
        return pd.DataFrame(
            {
                "tweet_id": pd.Series(dtype="int64"),
                "label": pd.Series(dtype="int64"),
                "annotators": pd.Series(dtype="int64"),
                "agreement": pd.Series(dtype="float64"),
                "labelled_at": pd.Series(dtype="datetime64[ns, UTC]"),
            }
        )
    grouped = latest.groupby("tweet_id")
    votes = grouped["label"].agg(["sum", "count"])
    newest = latest.drop_duplicates("tweet_id", keep="last").set_index("tweet_id")
    ai, total = votes["sum"], votes["count"]
    label = np.where(
        2 * ai > total, 1, np.where(2 * ai < total, 0, newest.loc[votes.index, "label"])
    )
    agreement = np.maximum(ai, total - ai) / total
    return pd.DataFrame(
        {
            "tweet_id": votes.index.to_numpy(dtype="int64"),
            "label": label.astype("int64"),
            "annotators": total.to_numpy(dtype="int64"),
            "agreement": agreement.to_numpy(dtype="float64"),
            "labelled_at": grouped["labelled_at"].max().array,
        }
    )[columns]
