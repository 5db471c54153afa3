"""The AI-tweets dashboard: the latest tweets the classifier calls AI, counts per hour and the
most linked domains, over a window and a probability floor."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ml_platform.core.warehouse import Warehouse
from ml_platform.labelling.sources import fetch, quoted, utc
from ml_platform.tweets.tables import TweetTables

DEFAULT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Dashboard:
    since: datetime | None
    until: datetime | None
    min_probability: float
    total: int  # AI tweets in the window at or above the floor
    tweets: list[dict[str, Any]]
    hourly: pd.Series  # hour (UTC) → AI tweets
    domains: list[tuple[str, int]]


def window(
    warehouse: Warehouse, names: TweetTables, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The requested window; by default the 24 hours up to the newest AI tweet (not up to now,
    so a replayed or historical stream still shows its last day)."""
    if until is None:
        newest = fetch(
            warehouse, f"SELECT MAX(created_at) AS newest FROM {quoted(warehouse, names.ai)}"
        )
        until = utc(newest[0]["newest"]) if newest else None
    if until is not None and since is None:
        since = until - DEFAULT_WINDOW
    return since, until


def hourly_counts(created_at: pd.Series, since: datetime, until: datetime) -> pd.Series:
    """AI tweets per UTC hour, every hour of the window present (zeros included)."""
    hours = pd.date_range(
        pd.Timestamp(since).floor("h"), pd.Timestamp(until).floor("h"), freq="h", tz="UTC"
    )
    stamps = pd.to_datetime(created_at, utc=True)
    counts = stamps.dt.floor("h").value_counts()
    return counts.reindex(hours, fill_value=0).astype("int64")


def load(
    warehouse: Warehouse,
    names: TweetTables,
    *,
    min_probability: float,
    since: datetime | None,
    until: datetime | None,
    limit: int = 50,
) -> Dashboard:
    if not warehouse.table_exists(names.ai):
        return Dashboard(since, until, min_probability, 0, [], pd.Series(dtype="int64"), [])
    since, until = window(warehouse, names, since, until)
    if since is None or until is None:  # no AI tweets yet
        return Dashboard(since, until, min_probability, 0, [], pd.Series(dtype="int64"), [])
    ai = quoted(warehouse, names.ai)
    where = "probability >= :floor AND created_at >= :since AND created_at <= :until"
    params = {"floor": min_probability, "since": since, "until": until}
    stamps = fetch(warehouse, f"SELECT created_at FROM {ai} WHERE {where}", **params)
    created = pd.Series([utc(r["created_at"]) for r in stamps], dtype="datetime64[us, UTC]")
    tweets = fetch(
        warehouse,
        "SELECT tweet_id, created_at, user_screen_name, text, probability, model_version, "
        f"entity_urls FROM {ai} WHERE {where} ORDER BY created_at DESC, tweet_id DESC "
        "LIMIT :limit",
        limit=limit,
        **params,
    )
    links = _links(warehouse, names, [int(t["tweet_id"]) for t in tweets])
    for found in tweets:
        found["created_at"] = utc(found["created_at"])
        found["links"] = links.get(int(found["tweet_id"])) or [
            u for u in (found["entity_urls"] or "").split() if _is_web(u)
        ]
    return Dashboard(
        since=since,
        until=until,
        min_probability=min_probability,
        total=len(created),
        tweets=tweets,
        hourly=hourly_counts(created, since, until),
        domains=_domains(warehouse, names, where, params),
    )


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _links(warehouse: Warehouse, names: TweetTables, ids: list[int]) -> dict[int, list[str]]:
    if not ids or not warehouse.table_exists(names.urls):
        return {}
    rows = fetch(
        warehouse,
        f"SELECT tweet_id, url FROM {quoted(warehouse, names.urls)} WHERE tweet_id IN :ids "
        "ORDER BY tweet_id, url",
        ids=ids,
    )
    out: dict[int, list[str]] = {}
    for row in rows:
        if _is_web(row["url"] or ""):
            out.setdefault(int(row["tweet_id"]), []).append(row["url"])
    return out


def _domains(
    warehouse: Warehouse, names: TweetTables, where: str, params: dict[str, Any]
) -> list[tuple[str, int]]:
    if not warehouse.table_exists(names.urls):
        return []
    rows = fetch(
        warehouse,
        f"SELECT u.domain, COUNT(*) AS n FROM {quoted(warehouse, names.urls)} u "
        f"JOIN (SELECT tweet_id FROM {quoted(warehouse, names.ai)} WHERE {where}) a "
        "ON a.tweet_id = u.tweet_id GROUP BY u.domain ORDER BY n DESC, u.domain LIMIT 10",
        **params,
    )
    return [(str(r["domain"]), int(r["n"])) for r in rows]


def hourly_svg(counts: pd.Series, width: int = 720, height: int = 180) -> str:
    """A bar chart as inline SVG (no script, no CDN); every text escaped."""
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
                f"{escape(f'{pd.Timestamp(hour):%H:00}')}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
