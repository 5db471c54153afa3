"""The label store: every judgement a new row in the warehouse, nothing ever updated or deleted.

`labelling_labels` holds one row per action of an annotator on an item of a queue: a label, a
skip, or a retraction (undo) that names the row it takes back. The current label of an item for
an annotator is derived (`current_labels`): their latest row that is not retracted. So a changed
label is a new row, an undo is a new row, and the whole history stays auditable.

Assignments (which annotator works on which queue) and queue settings (labels needed per item,
share of random items) are kept the same way: append-only, the latest row wins.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import Compare, Condition, Kind, OneOf, Select, TableSpec, Warehouse

ACTIONS = ("label", "skip", "retract")
MAX_NOTE = 2000

LABELS = TableSpec(
    "labelling_labels",
    {
        "queue": Kind.TEXT,
        "item_id": Kind.TEXT,
        "action": Kind.TEXT,
        "label": Kind.TEXT,  # NULL for skip and retract
        "annotator": Kind.TEXT,
        "note": Kind.TEXT,
        "item_version": Kind.TEXT,  # fingerprint of what the annotator was shown
        "retracts": Kind.BIGINT,  # id of the row an undo takes back
        "labelled_at": Kind.TIMESTAMP,
    },
    required=("queue", "item_id", "action", "annotator", "labelled_at"),
    serial_id=True,
    indexes=(("queue", "item_id"),),
)
ASSIGNMENTS = TableSpec(
    "labelling_assignments",
    {
        "annotator": Kind.TEXT,
        "queue": Kind.TEXT,
        "assigned": Kind.BOOLEAN,
        "changed_by": Kind.TEXT,
        "changed_at": Kind.TIMESTAMP,
    },
    required=("annotator", "queue", "assigned", "changed_by", "changed_at"),
    serial_id=True,
)
QUEUE_SETTINGS = TableSpec(
    "labelling_queue_settings",
    {
        "queue": Kind.TEXT,
        "labels_per_item": Kind.BIGINT,
        "random_share": Kind.DOUBLE,
        "changed_by": Kind.TEXT,
        "changed_at": Kind.TIMESTAMP,
    },
    required=("queue", "labels_per_item", "random_share", "changed_by", "changed_at"),
    serial_id=True,
)


@dataclass(frozen=True)
class QueueSettings:
    labels_per_item: int
    random_share: float


def current_labels(rows: pd.DataFrame) -> pd.DataFrame:
    """Each annotator's standing action per item: their latest label or skip not taken back.

    `rows` are store rows (any order); the result has one row per (queue, item_id, annotator)
    with `action` 'label' or 'skip'. An item whose every action was undone has no row.
    """
    if rows.empty:
        return rows.iloc[0:0]
    retracted = set(rows["retracts"].dropna().astype("int64"))
    live = rows[rows["action"].isin(["label", "skip"]) & ~rows["id"].isin(retracted)]
    latest = live.sort_values("id", kind="stable").drop_duplicates(
        ["queue", "item_id", "annotator"], keep="last"
    )
    return latest.reset_index(drop=True)


class LabelStore:
    """Reads and appends the labelling tables; every statement binds its values as parameters."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        for table in (LABELS, ASSIGNMENTS, QUEUE_SETTINGS):
            warehouse.ensure_table(table)

    # labels ------------------------------------------------------------------------------------

    def record(
        self,
        queue: str,
        item_id: str,
        annotator: str,
        action: str,
        *,
        label: str | None = None,
        note: str | None = None,
        item_version: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Append one label or skip; its row id."""
        if action not in ("label", "skip"):
            raise InvalidInputError(f"action '{action}', expected label or skip")
        if (action == "label") != (label is not None):
            raise InvalidInputError("a label row needs a label; a skip row has none")
        if note is not None and len(note) > MAX_NOTE:
            raise InvalidInputError(f"note has {len(note)} characters, at most {MAX_NOTE}")
        return self._append(
            queue=queue,
            item_id=item_id,
            action=action,
            label=label,
            annotator=annotator,
            note=note or None,
            item_version=item_version,
            retracts=None,
            labelled_at=at or datetime.now(UTC),
        )

    def undo(self, queue: str, annotator: str, at: datetime | None = None) -> pd.Series | None:
        """Take back the annotator's latest standing action in the queue with a retraction row;
        the row taken back (None when there is nothing left to undo)."""
        mine = self.rows(queue=queue, annotator=annotator)
        standing = mine[
            mine["action"].isin(["label", "skip"])
            & ~mine["id"].isin(set(mine["retracts"].dropna().astype("int64")))
        ]
        if standing.empty:
            return None
        last = standing.sort_values("id").iloc[-1]
        self._append(
            queue=queue,
            item_id=last["item_id"],
            action="retract",
            label=None,
            annotator=annotator,
            note=None,
            item_version=last["item_version"],
            retracts=int(last["id"]),
            labelled_at=at or datetime.now(UTC),
        )
        return last

    def rows(
        self,
        *,
        queue: str | None = None,
        annotator: str | None = None,
        item_ids: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        where: list[Condition] = []
        if queue is not None:
            where.append(Compare("queue", "==", queue))
        if annotator is not None:
            where.append(Compare("annotator", "==", annotator))
        if item_ids is not None:
            where.append(OneOf("item_id", list(item_ids)))
        return self._read(Select(LABELS.name, where=tuple(where), order_by=("id",)))

    def current(self, queue: str, item_ids: Iterable[str] | None = None) -> pd.DataFrame:
        return current_labels(self.rows(queue=queue, item_ids=item_ids))

    # assignments and queue settings -------------------------------------------------------------

    def assign(self, annotator: str, queue: str, assigned: bool, changed_by: str) -> None:
        self._insert(
            ASSIGNMENTS,
            annotator=annotator,
            queue=queue,
            assigned=assigned,
            changed_by=changed_by,
            changed_at=datetime.now(UTC),
        )

    def assignments(self) -> dict[str, dict[str, bool]]:
        """annotator → queue → assigned, from each pair's latest row; annotators and queues
        nobody changed are absent (the app treats them as assigned to every queue)."""
        frame = self._read(Select(ASSIGNMENTS.name, order_by=("id",)))
        latest = frame.drop_duplicates(["annotator", "queue"], keep="last")
        out: dict[str, dict[str, bool]] = {}
        for row in latest.itertuples():
            out.setdefault(row.annotator, {})[row.queue] = bool(row.assigned)
        return out

    def configure(self, queue: str, settings: QueueSettings, changed_by: str) -> None:
        if settings.labels_per_item < 1:
            raise InvalidInputError(
                f"labels_per_item is {settings.labels_per_item}, expected 1 or more"
            )
        if not 0.0 <= settings.random_share <= 1.0:
            raise InvalidInputError(f"random_share is {settings.random_share}, expected 0…1")
        self._insert(
            QUEUE_SETTINGS,
            queue=queue,
            labels_per_item=int(settings.labels_per_item),
            random_share=float(settings.random_share),
            changed_by=changed_by,
            changed_at=datetime.now(UTC),
        )

    def queue_settings(self, queue: str, default: QueueSettings) -> QueueSettings:
        newest = Select(
            QUEUE_SETTINGS.name,
            where=(Compare("queue", "==", queue),),
            order_by=("-id",),
            limit=1,
        )
        found = self.warehouse.rows(newest)
        if not found:
            return default
        row = found[0]
        return QueueSettings(int(row["labels_per_item"]), float(row["random_share"]))

    # plumbing -----------------------------------------------------------------------------------

    def _append(self, **values: object) -> int:
        return self._insert(LABELS, **values)

    def _insert(self, table: TableSpec, **values: object) -> int:
        row_id = self.warehouse.insert_row(table, values)
        if row_id is None:
            raise RuntimeError(f"{table.name} has no serial id to return")
        return row_id

    def _read(self, select: Select) -> pd.DataFrame:
        """Rows typed as written (timestamps in UTC); `retracts` is Int64 even without NULLs."""
        frame = self.warehouse.frame(select)
        if "retracts" in frame:
            frame["retracts"] = frame["retracts"].astype("Int64")
        return frame
