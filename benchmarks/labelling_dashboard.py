"""Time and memory of the labelling dashboard over a large AI-tweets table, for any window.

    .venv/bin/python benchmarks/labelling_dashboard.py --warehouse-url postgresql+psycopg2://…
        [--db-schema bench_dashboard] [--rows 2000000] [--days 90]

Generates `--rows` AI tweets spread evenly over `--days` (with one link each, in the tweet
product's own `ai_tweets_0` / `tweet_urls_0` contract, written with its own writer) unless the
schema already holds that many, then asks the app (in process, through Starlette's TestClient,
so only the app's own work is timed) for the windows a person or a prober would send: the
default day, two days, the 7-day maximum, a month, the whole table, `since=1900-01-01`, a
`1970…2199` window, and offsets (`Z`, `+01:00`, Unix time). Each is asked three times; it prints
the slowest time, the page size, the bars drawn, the tweets counted, and the process's resident
memory after each window (VmRSS) and at its peak (VmHWM), so growth with the window shows.
"""

import argparse
import re
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from ml_platform.core.warehouse import Warehouse
from ml_platform.labelling.app import create_app
from ml_platform.labelling.settings import Annotator, LabellingSettings
from ml_platform.tweets import tables
from ml_platform.tweets.contract import TweetTables

TOKEN = "benchmark-token-0123456789"
END = datetime(2026, 11, 30, tzinfo=UTC)
CHUNK = 250_000
DOMAINS = np.array(["arxiv.org", "github.com", "huggingface.co", "nytimes.com", "bbc.co.uk"])


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def generate(warehouse: Warehouse, names: TweetTables, rows: int, days: int) -> None:
    if warehouse.table_exists(names.ai):
        found = warehouse.count(names.ai)
        if found == rows:
            print(f"reusing {found:,} AI tweets in {names.ai}")
            return
        raise SystemExit(f"{names.ai} holds {found:,} rows, not {rows:,}: use another --db-schema")
    rng = np.random.default_rng(12)
    start = END - timedelta(days=days)
    span_us = days * 86_400 * 1_000_000
    began = time.perf_counter()
    for first in range(0, rows, CHUNK):
        n = min(CHUNK, rows - first)
        ids = np.arange(1_600_000_000_000_000_000 + first, 1_600_000_000_000_000_000 + first + n)
        offsets = np.sort(rng.integers(0, span_us, n))
        created = pd.Series(pd.Timestamp(start) + pd.to_timedelta(offsets, unit="us"))
        domains = DOMAINS[rng.integers(0, len(DOMAINS), n)]
        urls = pd.Series([f"https://{d}/item/{i}" for d, i in zip(domains, ids)], dtype="str")
        at = pd.Series([END] * n, dtype="datetime64[us, UTC]")
        ai = pd.DataFrame(
            {
                "tweet_id": ids,
                "created_at": created.astype("datetime64[us, UTC]"),
                "user_screen_name": [f"user_{i % 5000}" for i in range(first, first + n)],
                "text": pd.Series(
                    [f"A new paper on transformers and language models, number {i}" for i in ids],
                    dtype="str",
                ),
                "lang": "en",
                "entity_urls": urls,
                "probability": rng.uniform(0.5, 1.0, n),
                "model_version": 1,
                "classified_at": at,
            }
        )
        tables.insert_new_rows(warehouse, names.ai, ai, tables.AI_COLUMNS, ("tweet_id",))
        links = pd.DataFrame(
            {
                "tweet_id": ids,
                "url": urls,
                "domain": pd.Series(domains, dtype="str"),
                "original_url": urls,
                "found_in": "entities",
                "created_at": ai["created_at"],
            }
        )
        tables.insert_new_rows(
            warehouse, names.urls, links, tables.URL_COLUMNS, ("tweet_id", "url")
        )
        print(f"  {first + n:,} rows ({time.perf_counter() - began:.0f} s)", flush=True)
    if warehouse.engine().dialect.name == "postgresql":
        with warehouse.engine().begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # planner statistics, as autovacuum would gather


def windows(days: int) -> list[tuple[str, dict[str, str]]]:
    newest = END
    return [
        ("default (24 h up to newest)", {}),
        ("2 days", {"since": f"{newest - timedelta(days=2):%Y-%m-%dT%H:%M}"}),
        ("7 days (the maximum)", {"since": f"{newest - timedelta(days=7):%Y-%m-%dT%H:%M}"}),
        ("31 days", {"since": f"{newest - timedelta(days=31):%Y-%m-%dT%H:%M}"}),
        (f"whole table ({days} days)", {"since": f"{newest - timedelta(days=days):%Y-%m-%d}"}),
        ("since=1900-01-01", {"since": "1900-01-01"}),
        ("1970-01-01 … 2199-12-31", {"since": "1970-01-01", "until": "2199-12-31T23:59"}),
        ("offset Z, 2 days", {"since": "2026-11-27T00:00:00Z", "until": "2026-11-29T00:00:00Z"}),
        (
            "offset +01:00, 2 days",
            {"since": "2026-11-27T01:00:00+01:00", "until": "2026-11-29T01:00:00+01:00"},
        ),
        ("Unix time, 2 days", {"since": "1795737600", "until": "1795910400"}),
        ("floor 0.9, 7 days", {"since": "2026-11-23", "min_probability": "0.9"}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse-url", required=True)
    parser.add_argument("--db-schema", default="bench_dashboard")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    schema = args.db_schema if args.warehouse_url.startswith("postgresql") else None
    warehouse = Warehouse(url=args.warehouse_url, db_schema=schema)
    names = TweetTables()
    generate(warehouse, names, args.rows, args.days)
    settings = LabellingSettings(warehouse=warehouse, annotators={TOKEN: Annotator("bench")})
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"})
    began = time.perf_counter()
    client.get("/dashboard")  # warm: templates, connection pool, the indexes if missing
    warm = time.perf_counter() - began
    rss, _ = memory_mb()
    print(
        f"\n{args.rows:,} AI tweets over {args.days} days; first request {warm:.1f} s "
        f"(creates missing indexes); app ready at RSS {rss:.0f} MB"
    )
    print(f"{'window':30} {'status':>6} {'slowest s':>9} {'page kB':>8} {'bars':>5} "
          f"{'tweets':>9} {'RSS MB':>7} {'peak MB':>7}")  # fmt: skip
    for title, params in windows(args.days):
        slowest = 0.0
        for _ in range(args.repeats):
            began = time.perf_counter()
            answer = client.get("/dashboard", params=params)
            slowest = max(slowest, time.perf_counter() - began)
        total = re.search(r'id="total">(\d+)<', answer.text)
        rss, peak = memory_mb()
        print(
            f"{title:30} {answer.status_code:>6} {slowest:>9.2f} {len(answer.content) / 1024:>8.0f} "
            f"{answer.text.count('<rect'):>5} {total.group(1) if total else '-':>9} "
            f"{rss:>7.0f} {peak:>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
