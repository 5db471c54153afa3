"""The AI-tweets dashboard: the latest tweets the classifier calls AI, counts per hour and the
most linked domains, over a window and a probability floor.

Bounded whatever the window asked for: a window is at most `MAX_RANGE` long (a longer one is
shortened to the `MAX_RANGE` up to its end, and the page says so), the database counts per hour
(at most 169 bars travel, never the tweets), every query returns a bounded number of rows, and
indexes on the tweets' time (`dashboard_indexes`) let each query read only the window's rows —
so the page size, the memory and the time of a request do not grow with the window or the
table, and a server asked to stop is never stuck in one.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ml_platform.core.warehouse import (
    Compare,
    Condition,
    Join,
    OneOf,
    Select,
    Warehouse,
    WarehouseError,
)
from ml_platform.tweets.contract import TweetTables

SHOWN_COLUMNS = (
    "tweet_id",
    "created_at",
    "user_screen_name",
    "text",
    "probability",
    "model_version",
    "entity_urls",
)
DEFAULT_WINDOW = timedelta(hours=24)
MAX_RANGE = timedelta(days=7)  # 168 hours: a bar each, and a week of rows to count at most
HOUR = timedelta(hours=1)
log = logging.getLogger(__name__)
# what a window may name: pandas' timestamps end in 2262, and nothing was tweeted before 1970
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dashboard:
    since: datetime | None
    until: datetime | None
    min_probability: float
    total: int  # AI tweets in the window at or above the floor
    tweets: list[dict[str, Any]]
    hourly: pd.Series  # hour (UTC) → AI tweets, every hour of the window
    domains: list[tuple[str, int]]
    shortened: bool = False  # the window asked for was longer than MAX_RANGE


def window(
    warehouse: Warehouse, names: TweetTables, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None, bool]:
    """The window to show and whether it was shortened: by default the 24 hours up to the newest
    AI tweet (not up to now, so a replayed or historical stream still shows its last day). A
    window longer than `MAX_RANGE` becomes the `MAX_RANGE` up to its end, or up to the newest AI
    tweet when that is earlier (`since=1970…&until=2100…` shows the latest tweets)."""
    newest = None
    if until is None or since is None or until - since > MAX_RANGE:
        newest = warehouse.max_value(names.ai, "created_at")
    if until is None:
        until = newest
    if until is None:
        return since, until, False
    if since is None:
        since = until - DEFAULT_WINDOW
    if until - since <= MAX_RANGE:
        return since, until, False
    end = min(until, newest) if newest is not None else until
    return max(since, end - MAX_RANGE), end, True


def bucket_counts(
    found: pd.Series, since: datetime, until: datetime, bucket: timedelta
) -> pd.Series:
    """AI tweets per bucket from the counts of the buckets that have any (bucket start → n, as
    `Warehouse.count_by_bucket` returns them), every bucket of the window present (zeros
    included)."""
    freq = pd.Timedelta(bucket)
    starts = pd.date_range(
        pd.Timestamp(since).floor(freq), pd.Timestamp(until).floor(freq), freq=freq
    )
    return found.groupby(level=0).sum().reindex(starts, fill_value=0).astype("int64")


def load(
    warehouse: Warehouse,
    names: TweetTables,
    *,
    min_probability: float,
    since: datetime | None,
    until: datetime | None,
    limit: int = 50,
) -> Dashboard:
    """The dashboard over `[since, until]` (timezone-aware, or naive meaning UTC)."""
    since, until = (None if v is None else _as_utc(v) for v in (since, until))
    empty = Dashboard(since, until, min_probability, 0, [], pd.Series(dtype="int64"), [])
    if not warehouse.table_exists(names.ai):
        return empty
    dashboard_indexes(warehouse, names)
    since, until, shortened = window(warehouse, names, since, until)
    if since is None or until is None:  # no AI tweets yet
        return empty
    where = (
        Compare("created_at", ">=", since),
        Compare("created_at", "<=", until),
        Compare("probability", ">=", min_probability),
    )
    in_window = Select(names.ai, where=where)
    grouped = warehouse.count_by_bucket(in_window, "created_at", int(HOUR.total_seconds()))
    counts = bucket_counts(grouped, since, until, HOUR)
    tweets = warehouse.rows(
        Select(
            names.ai,
            SHOWN_COLUMNS,
            where,
            order_by=("-created_at", "-tweet_id"),
            limit=limit,
        )
    )
    links = _links(warehouse, names, [int(t["tweet_id"]) for t in tweets])
    for found in tweets:
        found["links"] = links.get(int(found["tweet_id"])) or [
            u for u in (found["entity_urls"] or "").split() if _is_web(u)
        ]
    return Dashboard(
        since=since,
        until=until,
        min_probability=min_probability,
        total=int(counts.sum()),
        tweets=tweets,
        hourly=counts,
        domains=_domains(warehouse, names, since, until, where),
        shortened=shortened,
    )


_INDEXED: set[tuple[str, str | None, str]] = set()


def dashboard_indexes(warehouse: Warehouse, names: TweetTables) -> None:
    """The indexes the dashboard's queries need on the tweet product's tables, created once per
    process if missing: AI tweets and their links by time, each with the columns the queries
    read, so counting reads the window's index entries alone. The tweet product keys its tables
    by id only; without these every request reads whole tables (2.5 s instead of 0.6 s for the
    domains of a week among 2 million links). Where the app may not create them, it says so and
    goes on."""
    for table, columns in (
        (names.ai, ["created_at", "probability", "tweet_id"]),
        (names.urls, ["created_at", "tweet_id", "domain"]),
    ):
        key = (warehouse.url, warehouse.db_schema, table)
        if key in _INDEXED or not warehouse.table_exists(table):
            continue
        try:
            warehouse.ensure_index(table, columns)
        except WarehouseError as error:
            log.warning("dashboard: no index on %s (%s); its queries read the whole table",
                        table, error)  # fmt: skip
        _INDEXED.add(key)


def _as_utc(value: datetime) -> datetime:
    """The window as the page shows it: in UTC, a naive value meaning UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _links(warehouse: Warehouse, names: TweetTables, ids: list[int]) -> dict[int, list[str]]:
    if not ids or not warehouse.table_exists(names.urls):
        return {}
    rows = warehouse.rows(
        Select(
            names.urls,
            ("tweet_id", "url"),
            (OneOf("tweet_id", ids),),
            order_by=("tweet_id", "url"),
        )
    )
    out: dict[int, list[str]] = {}
    for row in rows:
        if _is_web(row["url"] or ""):
            out.setdefault(int(row["tweet_id"]), []).append(row["url"])
    return out


def _domains(
    warehouse: Warehouse,
    names: TweetTables,
    since: datetime,
    until: datetime,
    where: tuple[Condition, ...],
) -> list[tuple[str, int]]:
    """The window's most linked domains. A link row carries its tweet's `created_at`, so links
    are narrowed by time through their own index before they meet the AI tweets."""
    if not warehouse.table_exists(names.urls):
        return []
    links = Select(
        names.urls,
        ("domain",),
        (Compare("created_at", ">=", since), Compare("created_at", "<=", until)),
        join=Join(names.ai, on=("tweet_id",), where=where),
    )
    counted = warehouse.count_by(links, "domain", top=10)
    return [(str(d), int(n)) for d, n in zip(counted["domain"], counted["n"], strict=True)]


def hourly_svg(counts: pd.Series, width: int = 720, height: int = 180) -> str:
    """A bar chart as inline SVG (no script, no CDN); every text escaped. Ticks show the day
    too when the bars span more than one."""
    pad_left, pad_bottom, pad_top = 36, 22, 10
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - pad_top
    n = max(len(counts), 1)
    top = max(int(counts.max()) if len(counts) else 0, 1)
    bar = plot_w / n
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            'class="chart" role="img" aria-label="AI tweets per hour">'
        ),
        f'<text x="4" y="{pad_top + 8}" class="axis">{top}</text>',
        f'<text x="4" y="{pad_top + plot_h}" class="axis">0</text>',
        (
            f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 8}" '
            f'y2="{pad_top + plot_h}" class="baseline"/>'
        ),
    ]
    several_days = len(counts) > 1 and counts.index[-1] - counts.index[0] >= pd.Timedelta(days=1)
    tick = "%m-%d %H:00" if several_days else "%H:00"
    for i, (hour, value) in enumerate(counts.items()):
        h = plot_h * int(value) / top
        x = pad_left + i * bar
        label = escape(f"{pd.Timestamp(hour):%Y-%m-%d %H:00} UTC: {int(value)}")
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{pad_top + plot_h - h:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{label}</title></rect>'
        )
        if i % max(n // 8, 1) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" class="axis">'
                f"{escape(pd.Timestamp(hour).strftime(tick))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
