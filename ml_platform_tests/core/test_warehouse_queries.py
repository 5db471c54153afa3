"""The warehouse's typed queries and keyed writes, each case on SQLite and on PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.warehouse import (
    Absent,
    AnyOf,
    Blank,
    Compare,
    IsNull,
    Join,
    Kind,
    OneOf,
    Present,
    Select,
    TableSpec,
)

pytestmark = pytest.mark.postgres

BIG = 2**61 + 1  # a tweet id: not exact as a float
START = datetime(2026, 11, 1, 10, tzinfo=UTC)
TWEETS = TableSpec(
    "tweets",
    {
        "tweet_id": Kind.BIGINT,
        "created_at": Kind.TIMESTAMP,
        "text": Kind.TEXT,
        "score": Kind.DOUBLE,
        "is_ai": Kind.BOOLEAN,
        "retweeted_id": Kind.BIGINT,
    },
    key=("tweet_id",),
)


def tweets(n: int, first_id: int = BIG) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tweet_id": pd.array([first_id + i for i in range(n)], dtype="int64"),
            "created_at": [START + timedelta(minutes=30 * i) for i in range(n)],
            "text": [" " if i == 1 else f"tweet {i}" for i in range(n)],
            "score": [i / 10 for i in range(n)],
            "is_ai": [i % 2 == 0 for i in range(n)],
            "retweeted_id": pd.array([None if i % 3 else BIG for i in range(n)], dtype="Int64"),
        }
    )


@pytest.fixture
def stored(warehouse):
    warehouse.insert_new(TWEETS, tweets(6))
    return warehouse


def test_frame_types_columns_as_written_and_keeps_big_ids_exact(stored):
    frame = stored.frame(Select("tweets", order_by=("tweet_id",)))

    pd.testing.assert_frame_equal(
        frame.assign(created_at=frame["created_at"].dt.as_unit("us")),
        tweets(6).assign(created_at=lambda f: pd.to_datetime(f["created_at"]).dt.as_unit("us")),
    )
    assert frame["retweeted_id"].dtype == "Int64" and frame["retweeted_id"][0] == BIG


def test_rows_are_exact_python_values_with_utc_timestamps(stored):
    first = stored.rows(Select("tweets", ("tweet_id", "created_at"), order_by=("tweet_id",)))[0]

    assert first == {"tweet_id": BIG, "created_at": START}
    assert first["created_at"].tzinfo is not None


def test_a_timestamp_bound_with_another_offset_compares_as_the_same_instant(stored):
    # 11:30+02:00 is 09:30 UTC, before every tweet; compared as text on SQLite it would be later
    since = datetime(2026, 11, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    naive_until = datetime(2026, 11, 1, 11, 0)  # naive means UTC

    found = stored.rows(
        Select(
            "tweets",
            ("tweet_id",),
            (Compare("created_at", ">=", since), Compare("created_at", "<=", naive_until)),
        )
    )

    assert sorted(r["tweet_id"] for r in found) == [BIG, BIG + 1, BIG + 2]


def test_conditions_one_of_a_list_or_a_query_absent_from_another_table_and_any_of(stored):
    stored.insert_new(TableSpec("seen", {"tweet_id": Kind.BIGINT}, ("tweet_id",)),
                      pd.DataFrame({"tweet_id": [BIG, BIG + 2]}))  # fmt: skip

    def ids(*where):
        return sorted(
            r["tweet_id"] - BIG for r in stored.rows(Select("tweets", ("tweet_id",), where))
        )

    assert ids(OneOf("tweet_id", [BIG + 1, BIG + 5, 7])) == [1, 5]
    assert ids(OneOf("tweet_id", Select("seen", ("tweet_id",)))) == [0, 2]
    assert ids(Absent("tweet_id", "seen")) == [1, 3, 4, 5]
    assert ids(Absent("tweet_id", "no_such_table")) == [0, 1, 2, 3, 4, 5]
    assert ids(AnyOf((Blank("text"), IsNull("retweeted_id")))) == [1, 2, 4, 5]
    assert ids(Compare("is_ai", "==", True), Compare("score", ">", 0.1)) == [2, 4]


def test_a_record_of_text_ids_matches_rows_of_any_id_type_on_several_columns(stored):
    # a record such as entity matching's import batches: ids and versions written down as text
    record = pd.DataFrame(
        {
            "kind": ["tweet", "tweet", "other"],
            "tweet_id": [str(BIG), str(BIG + 1), str(BIG + 2)],
            "text": ["tweet 0", "changed", "tweet 2"],
        }
    )
    stored.append_rows("record", record)

    def ids(condition):
        return sorted(
            r["tweet_id"] - BIG for r in stored.rows(Select("tweets", ("tweet_id",), (condition,)))
        )

    recorded = {"column": ("tweet_id", "text"), "table": "record"}
    tweet = (Compare("kind", "==", "tweet"),)
    assert ids(Present(**recorded, where=tweet)) == [0]  # 1 changed; 2 is another kind's
    assert ids(Absent(**recorded, where=tweet)) == [1, 2, 3, 4, 5]
    assert ids(Present("tweet_id", "record")) == [0, 1, 2]
    assert ids(Present("tweet_id", "no_such_table")) == []
    with pytest.raises(InvalidInputError, match="not one for one"):
        ids(Absent(("tweet_id", "text"), "record", other_column="tweet_id"))


def test_as_text_reads_every_column_as_the_database_writes_it_and_null_as_empty(stored):
    read = stored.frame(
        Select("tweets", ("tweet_id", "retweeted_id"), order_by=("tweet_id",), as_text=True)
    )

    assert read["tweet_id"].tolist()[:2] == [str(BIG), str(BIG + 1)]
    assert read["retweeted_id"].tolist()[:2] == [str(BIG), ""]


def test_a_join_adds_the_other_tables_columns_and_filters_by_its_conditions(stored):
    spec = TableSpec("links", {"tweet_id": Kind.BIGINT, "url": Kind.TEXT}, ("tweet_id", "url"))
    links = pd.DataFrame({"tweet_id": [BIG, BIG, BIG + 1, BIG + 9], "url": ["a", "b", "c", "d"]})
    stored.insert_new(spec, links)

    joined = stored.frame(
        Select(
            "links",
            ("url",),
            join=Join(
                "tweets",
                on=("tweet_id",),
                columns=("tweet_id", "text"),
                where=(Compare("is_ai", "==", True),),
            ),
            order_by=("-url",),
        )
    )

    assert joined.to_dict("list") == {
        "url": ["b", "a"],
        "tweet_id": [BIG, BIG],
        "text": ["tweet 0", "tweet 0"],
    }


def test_order_limit_distinct_and_counts(stored):
    newest = stored.rows(Select("tweets", ("tweet_id",), order_by=("-created_at",), limit=2))

    assert [r["tweet_id"] - BIG for r in newest] == [5, 4]
    assert stored.count("tweets") == 6
    assert stored.count("no_such_table") == 0
    assert stored.count(Select("tweets", ("is_ai",), distinct=True)) == 2
    assert stored.count(Select("tweets", where=(Compare("score", ">=", 0.3),))) == 3


def test_count_by_ranks_values_by_rows_then_by_value(warehouse):
    domains = ["b.org", "a.org", "c.org", "a.org", "b.org", "d.org"]
    warehouse.append_rows("urls", pd.DataFrame({"domain": domains, "n_chars": range(6)}))

    top = warehouse.count_by(Select("urls"), "domain", top=3)

    assert top.to_dict("list") == {"domain": ["a.org", "b.org", "c.org"], "n": [2, 2, 1]}


def test_count_by_bucket_counts_in_the_database_and_leaves_empty_buckets_out(stored):
    counts = stored.count_by_bucket(Select("tweets"), "created_at", 3600)

    assert counts.to_dict() == {
        pd.Timestamp("2026-11-01 10:00Z"): 2,
        pd.Timestamp("2026-11-01 11:00Z"): 2,
        pd.Timestamp("2026-11-01 12:00Z"): 2,
    }
    ai = stored.count_by_bucket(Select("tweets", where=(Compare("is_ai", "==", True),)),
                                "created_at", 7200)  # fmt: skip
    assert ai.tolist() == [2, 1]
    with pytest.raises(InvalidInputError, match="bucket of 0 s"):
        stored.count_by_bucket(Select("tweets"), "created_at", 0)


def test_max_value_with_conditions_is_utc(stored):
    newest_ai = stored.max_value("tweets", "created_at", [Compare("is_ai", "==", True)])

    assert newest_ai == START + timedelta(hours=2)
    assert stored.max_value("tweets", "created_at", [Compare("score", ">", 9)]) is None


def test_insert_new_skips_stored_keys_and_repeats_within_the_rows(warehouse):
    assert warehouse.insert_new(TWEETS, tweets(3)) == 3
    replay = pd.concat([tweets(5), tweets(5).assign(text="a repeat")])

    assert warehouse.insert_new(TWEETS, replay) == 2
    assert warehouse.insert_new(TWEETS, replay) == 0
    texts = warehouse.frame(Select("tweets", ("text",), order_by=("tweet_id",)))["text"]
    assert texts.tolist() == ["tweet 0", " ", "tweet 2", "tweet 3", "tweet 4"]


def test_insert_new_on_postgres_loads_with_copy(postgres_warehouse):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = postgres_warehouse.engine()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert postgres_warehouse.insert_new(TWEETS, tweets(5_000, first_id=1)) == 5_000
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "SELECT" in inserts[0] and "ON CONFLICT" in inserts[0]


def test_rows_lacking_a_declared_column_are_refused_naming_it(warehouse):
    with pytest.raises(InvalidInputError, match=r"rows for tweets lack column\(s\) \['is_ai'\]"):
        warehouse.insert_new(TWEETS, tweets(2).drop(columns="is_ai"))
    assert not warehouse.table_exists("tweets")


def test_insert_row_returns_serial_ids_required_columns_are_enforced_and_update_is_scoped(
    warehouse,
):
    spec = TableSpec(
        "sessions",
        {"token": Kind.TEXT, "opened_at": Kind.TIMESTAMP, "revoked_at": Kind.TIMESTAMP},
        required=("token", "opened_at"),
        serial_id=True,
        indexes=(("token",),),
    )
    warehouse.ensure_table(spec)
    ids = [warehouse.insert_row(spec, {"token": t, "opened_at": START}) for t in "abc"]

    assert ids == sorted(ids) and len(set(ids)) == 3
    with pytest.raises(sa.exc.IntegrityError):
        warehouse.insert_row(spec, {"token": None, "opened_at": START})
    later = START + timedelta(hours=1)
    assert warehouse.update("sessions", {"revoked_at": later}, [Compare("token", "==", "b")]) == 1
    assert warehouse.update("sessions", {"revoked_at": later},
                            [Compare("token", "==", "b"), IsNull("revoked_at")]) == 0  # fmt: skip
    revoked = warehouse.rows(
        Select("sessions", ("token", "revoked_at"), (Compare("id", "==", ids[1]),))
    )
    assert revoked == [{"token": "b", "revoked_at": later}]
    with pytest.raises(InvalidInputError, match="without a condition"):
        warehouse.update("sessions", {"revoked_at": later}, [])


def test_a_declared_key_is_unique_and_ensure_table_is_idempotent(warehouse):
    spec = TableSpec("keyed", {"k": Kind.TEXT, "v": Kind.BIGINT}, key=("k",))
    warehouse.ensure_table(spec)
    warehouse.ensure_table(spec)
    warehouse.insert_row(spec, {"k": "a", "v": 1})

    with pytest.raises(sa.exc.IntegrityError):
        warehouse.insert_row(spec, {"k": "a", "v": 2})
    assert warehouse.count("keyed") == 1


def test_unknown_tables_and_columns_are_named_in_the_error(stored):
    with pytest.raises(InvalidInputError, match="table nowhere does not exist"):
        stored.frame(Select("nowhere"))
    with pytest.raises(InvalidInputError, match="tweets has no column 'tweet'"):
        stored.rows(Select("tweets", where=(Compare("tweet", "==", 1),)))
    with pytest.raises(InvalidInputError, match="tweets has no column 'nope'"):
        stored.ensure_index("tweets", ["nope"])
    with pytest.raises(InvalidInputError, match=r"\['nope'\] are not among its columns"):
        TableSpec("t", {"a": Kind.TEXT}, key=("nope",))
