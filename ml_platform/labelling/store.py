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
import sqlalchemy as sa

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import Warehouse

LABELS = "labelling_labels"
ASSIGNMENTS = "labelling_assignments"
QUEUE_SETTINGS = "labelling_queue_settings"
ACTIONS = ("label", "skip", "retract")
MAX_NOTE = 2000

# SQLite only auto-increments an INTEGER primary key; PostgreSQL gets a BIGINT identity.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def _tables(schema: str | None) -> dict[str, sa.Table]:
    metadata = sa.MetaData(schema=schema)
    return {
        LABELS: sa.Table(
            LABELS,
            metadata,
            sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("queue", sa.Text, nullable=False),
            sa.Column("item_id", sa.Text, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("label", sa.Text),  # NULL for skip and retract
            sa.Column("annotator", sa.Text, nullable=False),
            sa.Column("note", sa.Text),
            sa.Column("item_version", sa.Text),  # fingerprint of what the annotator was shown
            sa.Column("retracts", sa.BigInteger),  # id of the row an undo takes back
            sa.Column("labelled_at", _TIME, nullable=False),
            sa.Index("ix_labelling_labels_queue_item", "queue", "item_id"),
        ),
        ASSIGNMENTS: sa.Table(
            ASSIGNMENTS,
            metadata,
            sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("annotator", sa.Text, nullable=False),
            sa.Column("queue", sa.Text, nullable=False),
            sa.Column("assigned", sa.Boolean, nullable=False),
            sa.Column("changed_by", sa.Text, nullable=False),
            sa.Column("changed_at", _TIME, nullable=False),
        ),
        QUEUE_SETTINGS: sa.Table(
            QUEUE_SETTINGS,
            metadata,
            sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("queue", sa.Text, nullable=False),
            sa.Column("labels_per_item", sa.BigInteger, nullable=False),
            sa.Column("random_share", sa.Double, nullable=False),
            sa.Column("changed_by", sa.Text, nullable=False),
            sa.Column("changed_at", _TIME, nullable=False),
        ),
    }


@dataclass(frozen=True)
class QueueSettings:
    labels_per_item: int
    random_share: float


def _utc(values: pd.Series) -> pd.Series:
    """SQLite hands timestamps back without an offset; they were written in UTC."""
    return pd.to_datetime(values, utc=True, format="mixed")


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
        self._tables = _tables(warehouse.db_schema)
        with warehouse.engine().begin() as conn:
            if warehouse.db_schema:
                conn.execute(sa.schema.CreateSchema(warehouse.db_schema, if_not_exists=True))
            for table in self._tables.values():
                table.create(conn, checkfirst=True)

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
        table = self._tables[LABELS]
        query = sa.select(table).order_by(table.c.id)
        if queue is not None:
            query = query.where(table.c.queue == queue)
        if annotator is not None:
            query = query.where(table.c.annotator == annotator)
        if item_ids is not None:
            query = query.where(table.c.item_id.in_(list(item_ids)))
        frame = self._read(query, table)
        return frame.assign(labelled_at=_utc(frame["labelled_at"]))

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
        table = self._tables[ASSIGNMENTS]
        frame = self._read(sa.select(table).order_by(table.c.id), table)
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
        table = self._tables[QUEUE_SETTINGS]
        query = sa.select(table).where(table.c.queue == queue).order_by(table.c.id.desc()).limit(1)
        with self.warehouse.engine().connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return default
        return QueueSettings(int(row["labels_per_item"]), float(row["random_share"]))

    # plumbing -----------------------------------------------------------------------------------

    def _append(self, **values: object) -> int:
        return self._insert(LABELS, **values)

    def _insert(self, name: str, **values: object) -> int:
        table = self._tables[name]
        with self.warehouse.engine().begin() as conn:
            result = conn.execute(table.insert().values(**values).returning(table.c.id))
            return int(result.scalar_one())

    def _read(self, query: sa.Select, table: sa.Table) -> pd.DataFrame:
        with self.warehouse.engine().connect() as conn:
            result = conn.execute(query)
            records = [dict(row) for row in result.mappings()]
        frame = pd.DataFrame(records, columns=[c.name for c in table.columns])
        if "id" in frame:
            frame["id"] = frame["id"].astype("int64")
        if "retracts" in frame:
            frame["retracts"] = frame["retracts"].astype("Int64")
        return frame
