"""Queues of items to label: which item an annotator sees next, what the page shows of it, and
where a settled label goes (golden tweet labels, entity-match feedback).

Order: the model's least certain items first (probability nearest 0.5) — the most informative
labels, as in uncertainty-sampling active learning — except that a configurable share of picks
is uniformly random, so the labelled set also represents the whole stream and stays usable as
an unbiased test set. Items already started by another annotator (fewer than k labels) come
before new ones, so k-fold labelling finishes items instead of spreading thin.
"""

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

import pandas as pd
from rapidfuzz import fuzz

from ml_platform.core.warehouse import Warehouse
from ml_platform.entity_matching.contract import SOURCES, TARGETS
from ml_platform.labelling import sources
from ml_platform.labelling.agreement import resolved_label
from ml_platform.tweets.contract import TweetTables

SIMILAR_AT = 80  # rapidfuzz ratio (0-100) from which differing values count as near misses
# ASCII digits only (`str.isdigit` also takes '²'), and no more than a BIGINT holds
_TWEET_ID = re.compile(r"[0-9]{1,19}")
_MAX_TWEET_ID = 2**63 - 1


@dataclass(frozen=True)
class Choice:
    key: str  # keyboard shortcut
    value: str  # stored label
    title: str


@dataclass(frozen=True)
class ItemView:
    item_id: str
    version: str  # fingerprint of what the annotator is shown, stored with each label
    fields: dict[str, Any]


class Queue(Protocol):
    name: str
    title: str
    choices: tuple[Choice, ...]

    def candidates(self) -> pd.DataFrame:
        """`item_id`, `priority` (lower = more informative), one row per item."""
        ...

    def view(self, item_id: str) -> ItemView | None: ...

    def publish(
        self, item_id: str, current: pd.DataFrame, annotator: str, needed: int, at: datetime
    ) -> str | None:
        """Send the item's settled label where its product reads labels; what was written."""
        ...


def fingerprint(fields: Mapping[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fraction(key: str) -> float:
    """A stable draw in [0, 1) from a key: the same page reload shows the same item."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def next_item(
    candidates: pd.DataFrame,
    current: pd.DataFrame,
    annotator: str,
    *,
    needed: int,
    random_share: float,
    draw_key: str,
) -> str | None:
    """The item `annotator` should label next, or None when nothing is left for them.

    Left out: items they already labelled or skipped, and items that have `needed` labels.
    """
    if candidates.empty:
        return None
    labels = current[current["action"] == "label"] if len(current) else current
    mine = set(current.loc[current["annotator"] == annotator, "item_id"]) if len(current) else set()
    counts = labels.groupby("item_id").size() if len(labels) else pd.Series(dtype="int64")
    open_items = candidates[~candidates["item_id"].isin(mine)]
    done = counts[counts >= needed].index
    open_items = open_items[~open_items["item_id"].isin(done)]
    if open_items.empty:
        return None
    if _fraction(f"random?{draw_key}") < random_share:
        pick = int(_fraction(f"which?{draw_key}") * len(open_items))
        return str(open_items["item_id"].iloc[pick])
    started = open_items["item_id"].map(counts).fillna(0) > 0
    ordered = open_items.assign(started=started).sort_values(
        ["started", "priority"], ascending=[False, True], kind="stable"
    )
    return str(ordered["item_id"].iloc[0])


@dataclass(frozen=True)
class Progress:
    items: int  # in the queue
    complete: int  # with the labels they need
    labelled_by_me: int
    left_for_me: int


def progress(
    candidates: pd.DataFrame, current: pd.DataFrame, annotator: str, needed: int
) -> Progress:
    ids = set(candidates["item_id"])
    in_queue = current[current["item_id"].isin(ids)] if len(current) else current
    labels = in_queue[in_queue["action"] == "label"] if len(in_queue) else in_queue
    counts = labels.groupby("item_id").size() if len(labels) else pd.Series(dtype="int64")
    complete = set(counts[counts >= needed].index)
    mine = in_queue[in_queue["annotator"] == annotator] if len(in_queue) else in_queue
    touched = set(mine["item_id"]) if len(mine) else set()
    return Progress(
        items=len(ids),
        complete=len(complete),
        labelled_by_me=int((mine["action"] == "label").sum()) if len(mine) else 0,
        left_for_me=len(ids - touched - complete),
    )


def _uncertainty(probability: pd.Series) -> pd.Series:
    """|p − 0.5|; unscored items count as most uncertain."""
    return (probability.astype(float) - 0.5).abs().fillna(0.0)


def _links(text: str | None) -> list[str]:
    """Only http(s) links become anchors: a `javascript:` URL in a tweet must never be clickable."""
    return [u for u in (text or "").split() if urlsplit(u).scheme in ("http", "https")]


class TweetQueue:
    """Tweets of the test and dev tables; a label is a golden label of the tweet product."""

    name = "tweets"
    title = "Tweets — about AI?"
    choices = (Choice("1", "1", "AI"), Choice("0", "0", "not AI"))

    def __init__(self, warehouse: Warehouse, names: TweetTables) -> None:
        self.warehouse = warehouse
        self.names = names

    def candidates(self) -> pd.DataFrame:
        found = sources.tweet_candidates(self.warehouse, self.names)
        return pd.DataFrame(
            {"item_id": found["item_id"], "priority": _uncertainty(found["probability"])}
        )

    def view(self, item_id: str) -> ItemView | None:
        if not _TWEET_ID.fullmatch(item_id) or int(item_id) > _MAX_TWEET_ID:
            return None
        found = sources.tweet(self.warehouse, self.names, int(item_id))
        if found is None:
            return None
        probability = found["probability"]
        fields = {
            "tweet_id": item_id,
            "text": found["text"] or "",
            "user": found["user_screen_name"] or "",
            "created_at": found["created_at"].strftime("%Y-%m-%d %H:%M UTC")
            if found["created_at"]
            else "",
            "lang": found["lang"] or "",
            "probability": None if probability is None else round(float(probability), 3),
            "model_version": found["model_version"],
            "links": _links(found["entity_urls"]),
        }
        # the label is about the text; the classification is context that may change
        version = fingerprint({k: fields[k] for k in ("text", "user", "links")})
        return ItemView(item_id=item_id, version=version, fields=fields)

    def publish(
        self, item_id: str, current: pd.DataFrame, annotator: str, needed: int, at: datetime
    ) -> str | None:
        """Golden labels keep every annotator's judgement (the tweet product resolves several by
        majority), so the annotator's own current label is written when it differs from the
        last one written for them; an undo that leaves them no label writes a withdrawal."""
        mine = current[(current["annotator"] == annotator) & (current["action"] == "label")]
        tweet_id = int(item_id)
        label = None if mine.empty else int(mine.iloc[-1]["label"])
        written = sources.latest_golden_label(self.warehouse, self.names, tweet_id, annotator)
        if written == label:
            return None
        note = None if mine.empty else mine.iloc[-1]["note"]
        sources.add_golden_label(self.warehouse, self.names, tweet_id, label, annotator, note, at)
        if label is None:
            return f"golden label for tweet {tweet_id} withdrawn"
        return f"golden label {label} for tweet {tweet_id}"


def pair_item_id(source_id: str, target_id: str) -> str:
    return f"{quote(str(source_id), safe='')}|{quote(str(target_id), safe='')}"


def split_pair_item_id(item_id: str) -> tuple[str, str] | None:
    parts = item_id.split("|")
    return (unquote(parts[0]), unquote(parts[1])) if len(parts) == 2 else None


def _same(value: Any) -> str:
    return " ".join(str(value).lower().split())


def compare_fields(source: Mapping[str, Any], target: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Field by field: `same`, `similar` (a near miss such as a typo), `different` or `missing`."""
    rows = []
    for name in [*source, *(k for k in target if k not in source)]:
        left, right = source.get(name), target.get(name)
        empty = [v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
                 for v in (left, right)]  # fmt: skip
        if any(empty):
            status = "same" if all(empty) else "missing"
        elif _same(left) == _same(right):
            status = "same"
        elif fuzz.ratio(_same(left), _same(right)) >= SIMILAR_AT:
            status = "similar"
        else:
            status = "different"
        rows.append(
            {
                "field": name,
                "source": "" if empty[0] else str(left),
                "target": "" if empty[1] else str(right),
                "status": status,
            }
        )
    return rows


class PairQueue:
    """Entity-match pairs from the review queue; a settled label is an `em_feedback` row."""

    name = "pairs"
    title = "Entity pairs — same person?"
    choices = (Choice("m", "1", "match"), Choice("n", "0", "no match"))

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def candidates(self) -> pd.DataFrame:
        pairs = sources.review_pairs(self.warehouse)
        ids = [pair_item_id(s, t) for s, t in zip(pairs["source_id"], pairs["target_id"])]
        return pd.DataFrame(
            {
                "item_id": pd.Series(ids, dtype="str"),
                "priority": _uncertainty(pd.to_numeric(pairs["probability"])),
            }
        )

    def view(self, item_id: str) -> ItemView | None:
        ids = split_pair_item_id(item_id)
        pair = sources.review_pair(self.warehouse, *ids) if ids else None
        if pair is None:
            return None
        source = sources.record(self.warehouse, SOURCES, ids[0]) or {}
        target = sources.record(self.warehouse, TARGETS, ids[1]) or {}
        fields = {
            "source_id": ids[0],
            "target_id": ids[1],
            "probability": round(float(pair["probability"]), 3),
            "batch": pair.get("partition_key", ""),
            "explanation": pair.get("explanation") or "",
            "comparison": compare_fields(source, target),
        }
        version = fingerprint({"source": source, "target": target})
        return ItemView(item_id=item_id, version=version, fields=fields)

    def publish(
        self, item_id: str, current: pd.DataFrame, annotator: str, needed: int, at: datetime
    ) -> str | None:
        """Feedback is one label per pair (the latest wins in `em_feedback`), so the pair's
        label is written once `needed` annotators labelled it with a majority, and again only
        when that settled label changes. When an action (an undo, a changed label) leaves the
        pair without a settled label, the label this UI landed is withdrawn with a row that has
        no label (`sources.add_feedback`) — only when the pair's latest landed row is this UI's,
        so a label the operational system landed is never withdrawn from here."""
        source_id, target_id = split_pair_item_id(item_id) or ("", "")
        labels = list(current.loc[current["action"] == "label", "label"]) if len(current) else []
        settled = resolved_label(labels, needed)
        landed = sources.latest_feedback(self.warehouse, source_id, target_id)
        if settled is None:
            ours = sources.latest_feedback(self.warehouse, source_id, target_id, ours=True)
            if landed is None or landed.label is None or landed != ours:
                return None
            sources.add_feedback(self.warehouse, source_id, target_id, None, at)
            return f"feedback for {source_id} / {target_id} withdrawn"
        if landed is not None and landed.label == int(settled):
            return None
        sources.add_feedback(self.warehouse, source_id, target_id, int(settled), at)
        return f"feedback {settled} for {source_id} / {target_id}"
