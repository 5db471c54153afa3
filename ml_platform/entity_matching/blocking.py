"""Blocking: which source/target pairs are worth comparing at all.

Comparing every source with every target is quadratic, so records are put into blocks by cheap
keys and only records sharing a key are paired. One key alone loses every pair with a typo in the
keyed field, so several independent keys are used (their pairs are unioned): a true pair is lost
only when every key is broken at once. Keys too common to be useful (a block that would produce
more than ``max_block_pairs`` pairs) are skipped and counted, which keeps the pair count linear.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.entity_matching import normalise

TRANSFORMS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "phonetic": normalise.phonetic,
    "clean": normalise.squeeze,
    "digits": normalise.digits,
    "first_word": normalise.first_word,
    "year": lambda values: normalise.digits(values).str.slice(0, 4),
    "initial": lambda values: normalise.squeeze(values).str.slice(0, 1),
}

# How a column of each schema type is keyed when a rule does not say.
DEFAULT_TRANSFORM = {
    "name": "phonetic",
    "text": "clean",
    "address": "first_word",
    "date": "digits",
    "number": "digits",
    "code": "clean",
    "free_text": "first_word",
    "list": "clean",
    "phone": "digits",
    "quantity": "digits",
    "event_date": "year",
}


@dataclass(frozen=True)
class BlockingRule:
    """One blocking key: transformed column values joined, or a sorted-neighbourhood window."""

    name: str
    columns: tuple[str, ...]
    transforms: tuple[str, ...]
    method: str = "exact"  # or "sorted_neighbourhood", or "tokens": one key per word/list item
    unordered: bool = False  # key parts sorted, so swapped first/last names share a key
    window: int = 5

    def keys(self, records: pd.DataFrame) -> pd.Series:
        """The rule's key per record; missing when any part is missing.

        A `tokens` rule gives a list of keys per record (each word of a text, each item of a
        list): records sharing any rare word meet, and a word too common to block on is a block
        over the size cap, which `candidate_pairs` skips — common words drop out by themselves.
        """
        if self.method == "tokens":
            words = normalise.clean_text(records[self.columns[0]].str.replace(";", " "))
            return words.str.split(" ").map(
                lambda ws: sorted(set(ws)) if isinstance(ws, list) else pd.NA
            )
        parts = [TRANSFORMS[t](records[c]) for c, t in zip(self.columns, self.transforms)]
        if len(parts) == 1:
            return parts[0]
        frame = pd.concat(parts, axis=1, ignore_index=True)
        complete = frame.notna().all(axis=1)
        values = frame[complete].astype(str).to_numpy()
        if self.unordered:
            values = np.sort(values, axis=1)
        keys = pd.Series(pd.NA, index=records.index, dtype="string")
        keys[complete] = ["|".join(row) for row in values] if len(values) else []
        return keys


@dataclass
class BlockingStats:
    """What blocking did, for asset metadata and benchmark output."""

    pairs: int = 0
    pairs_per_rule: dict[str, int] = field(default_factory=dict)
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    # dedupe: blocks over the cap, paired by a window in record order instead of skipped
    windowed_blocks: dict[str, int] = field(default_factory=dict)
    largest_block: dict[str, int] = field(default_factory=dict)


def rules_from_schema(
    columns: Mapping[str, str], configured: Sequence[Mapping[str, object]] = ()
) -> list[BlockingRule]:
    """Blocking rules from the schema's `blocking:` section, or a default set built from column types.

    The default uses each kind of evidence on its own so that one corrupted field never decides:
    the names (order-free phonetic codes), each date, each code, each code with the last name's
    phonetic code, the birth year with the first name's, and a sorted-neighbourhood pass over the
    names that catches typos a phonetic code does not forgive.
    """
    if configured:
        return [_rule_from_config(i, spec, columns) for i, spec in enumerate(configured)]
    by_type: dict[str, list[str]] = {}
    for column, kind in columns.items():
        by_type.setdefault(kind, []).append(column)
    names, dates = by_type.get("name", []), by_type.get("date", [])
    rules: list[BlockingRule] = []

    def add(name: str, cols: Sequence[str], transforms: Sequence[str] | None = None, **kw) -> None:
        chosen = transforms or [DEFAULT_TRANSFORM[columns[c]] for c in cols]
        rules.append(BlockingRule(name, tuple(cols), tuple(chosen), **kw))

    if names:
        add("names_phonetic", names[:2], unordered=True)
        add(
            "names_sorted",
            [names[-1], names[0]] if len(names) > 1 else names,
            ["clean"] * min(len(names), 2),
            method="sorted_neighbourhood",
        )
    for date in dates:
        add(f"{date}_exact", [date])
        if names:
            add(f"{date}_year_{names[0]}", [date, names[0]], ["year", "phonetic"])
    for code in by_type.get("code", []):
        add(f"{code}_exact", [code])
        if names:
            add(f"{code}_{names[-1]}", [code, names[-1]])
    for address in by_type.get("address", [])[:1]:
        numbers = by_type.get("number", [])[:1]
        add(f"{address}_first_word", [*numbers, address])
    for phone in by_type.get("phone", []):
        add(f"{phone}_exact", [phone])
    for text in by_type.get("free_text", [])[:1]:
        add(f"{text}_tokens", [text], ["clean"], method="tokens")
        add(f"{text}_sorted", [text], ["clean"], method="sorted_neighbourhood")
    if not rules:
        raise InvalidInputError(
            "schema: no column can be used for blocking (no name/date/code/phone/free_text)"
        )
    return rules


def _rule_from_config(
    position: int, spec: Mapping[str, object], columns: Mapping[str, str]
) -> BlockingRule:
    where = f"schema blocking rule {position + 1}"
    cols = spec.get("columns")
    if not isinstance(cols, list) or not cols:
        raise InvalidInputError(f"{where}: 'columns' must be a non-empty list of column names")
    unknown = [c for c in cols if c not in columns]
    if unknown:
        raise InvalidInputError(f"{where}: unknown column(s) {unknown}; schema has {list(columns)}")
    transforms = spec.get("transforms") or [DEFAULT_TRANSFORM[columns[c]] for c in cols]
    bad = [t for t in transforms if t not in TRANSFORMS]
    if bad or len(transforms) != len(cols):
        raise InvalidInputError(
            f"{where}: 'transforms' must give one of {sorted(TRANSFORMS)} per column, got {transforms}"
        )
    method = str(spec.get("method", "exact"))
    if method not in {"exact", "sorted_neighbourhood", "tokens"}:
        raise InvalidInputError(
            f"{where}: method '{method}' is not exact, sorted_neighbourhood or tokens"
        )
    if method == "tokens" and len(cols) != 1:
        raise InvalidInputError(f"{where}: a tokens rule takes exactly one column, got {cols}")
    return BlockingRule(
        name=str(spec.get("name", "_".join(cols) + f"_{method}")),
        columns=tuple(cols),
        transforms=tuple(transforms),
        method=method,
        unordered=bool(spec.get("unordered", False)),
        window=int(spec.get("window", 5)),
    )


def block_keys(records: pd.DataFrame, rules: Sequence[BlockingRule]) -> pd.DataFrame:
    """Long table (id, rule, key): one row per record and rule that yields a key.

    This is what the cumulative target block index stores, so a new batch of targets only adds
    rows and never recomputes the old ones.
    """
    frames = []
    for rule in rules:
        keys = rule.keys(records)
        present = keys.notna()
        frame = pd.DataFrame(
            {
                "id": records.loc[present, "id"].to_numpy(),
                "rule": rule.name,
                "key": keys[present].to_numpy(),
            }
        )
        if rule.method == "tokens":
            frame = frame.explode("key", ignore_index=True)
            frame = frame[frame["key"].notna() & (frame["key"] != "")]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"id": "string", "rule": "string", "key": "string"})


def candidate_pairs(
    source_keys: pd.DataFrame,
    target_keys: pd.DataFrame,
    rules: Sequence[BlockingRule],
    *,
    max_block_pairs: int = 400,
) -> tuple[pd.DataFrame, BlockingStats]:
    """Unique (source_id, target_id) pairs that share at least one block key."""
    stats = BlockingStats()
    found: list[pd.DataFrame] = []
    for rule in rules:
        s = source_keys[source_keys["rule"] == rule.name]
        t = target_keys[target_keys["rule"] == rule.name]
        if rule.method == "sorted_neighbourhood":
            pairs = _sorted_neighbourhood(s, t, rule.window)
        else:
            pairs, skipped = _exact_join(s, t, max_block_pairs)
            stats.skipped_blocks[rule.name] = skipped
        stats.pairs_per_rule[rule.name] = len(pairs)
        found.append(pairs)
    pairs = pd.concat(found, ignore_index=True).drop_duplicates(ignore_index=True)
    stats.pairs = len(pairs)
    return pairs, stats


def _exact_join(s: pd.DataFrame, t: pd.DataFrame, max_block_pairs: int) -> tuple[pd.DataFrame, int]:
    sizes = pd.concat(
        [s["key"].value_counts().rename("s"), t["key"].value_counts().rename("t")], axis=1
    ).dropna()
    too_big = sizes.index[(sizes["s"] * sizes["t"]) > max_block_pairs]
    s = s[~s["key"].isin(too_big)]
    joined = s[["id", "key"]].merge(t[["id", "key"]], on="key", suffixes=("_s", "_t"))
    pairs = joined.rename(columns={"id_s": "source_id", "id_t": "target_id"})
    return pairs[["source_id", "target_id"]], len(too_big)


def _sorted_neighbourhood(s: pd.DataFrame, t: pd.DataFrame, window: int) -> pd.DataFrame:
    """Pairs of a source and a target within `window` positions of each other in key order."""
    keys = np.concatenate([s["key"].to_numpy(dtype=object), t["key"].to_numpy(dtype=object)])
    ids = np.concatenate([s["id"].to_numpy(dtype=object), t["id"].to_numpy(dtype=object)])
    is_source = np.concatenate([np.ones(len(s), bool), np.zeros(len(t), bool)])
    order = np.argsort(keys, kind="stable")
    ids, is_source = ids[order], is_source[order]
    left, right = [], []
    for offset in range(1, window):
        a, b = np.arange(len(ids) - offset), np.arange(offset, len(ids))
        mixed = is_source[a] != is_source[b]
        a, b = a[mixed], b[mixed]
        source_first = is_source[a]
        left.append(np.where(source_first, ids[a], ids[b]))
        right.append(np.where(source_first, ids[b], ids[a]))
    if not left:
        return pd.DataFrame(
            {"source_id": pd.Series(dtype="string"), "target_id": pd.Series(dtype="string")}
        )
    return pd.DataFrame(
        {"source_id": np.concatenate(left), "target_id": np.concatenate(right)}
    ).astype("string")


def self_pairs(
    keys: pd.DataFrame,
    rules: Sequence[BlockingRule],
    order: pd.Series,
    *,
    max_block_pairs: int = 400,
    window: int = 10,
) -> tuple[pd.DataFrame, BlockingStats]:
    """Dedupe blocking: unique pairs of distinct records of one table that share a block key.

    Pairs come as (source_id, target_id) with source_id < target_id, so each unordered pair is
    scored once and a record is never paired with itself. Skewed data has blocks that would
    be quadratic ("lee" × 9,000 records = 40M pairs); skipping them, as linking does, would lose
    every true pair inside. Instead a block over ``max_block_pairs`` (of an exact rule; a word
    of a ``tokens`` rule that common is skipped) pairs its records only with
    their ``window − 1`` neighbours in ``order`` (the records' values in schema order, indexed
    by id): sorted neighbourhood inside the block, so work per block is linear in its size
    while near-identical records, which sort next to each other, still meet.
    """
    stats = BlockingStats()
    rank = pd.Series(
        np.argsort(np.argsort(order.fillna("").to_numpy(dtype=object), kind="stable")),
        index=order.index,
    )
    found: list[pd.DataFrame] = []
    for rule in rules:
        block = keys.loc[keys["rule"] == rule.name, ["id", "key"]].drop_duplicates()
        if rule.method == "sorted_neighbourhood":
            block = block.assign(key="", rank=block["key"].to_numpy())
            pairs = _windowed(block, rule.window)
            windowed = 1
        else:
            sizes = block["key"].map(block["key"].value_counts())
            large = sizes * (sizes - 1) // 2 > max_block_pairs
            if rule.method == "tokens":  # a common word is no evidence: skip, as linking does
                stats.skipped_blocks[rule.name] = int(block.loc[large, "key"].nunique())
                block, sizes, large = block[~large], sizes[~large], large[~large]
            small = block[~large & (sizes > 1)]
            joined = small.merge(small, on="key", suffixes=("_l", "_r"))
            joined = joined[joined["id_l"] < joined["id_r"]]
            full = joined.rename(columns={"id_l": "source_id", "id_r": "target_id"})
            big = block[large].assign(rank=rank.reindex(block.loc[large, "id"]).to_numpy())
            pairs = pd.concat(
                [full[["source_id", "target_id"]], _windowed(big, window)], ignore_index=True
            )
            windowed = int(big["key"].nunique())
            stats.largest_block[rule.name] = int(sizes.max()) if len(sizes) else 0
        stats.windowed_blocks[rule.name] = windowed
        stats.pairs_per_rule[rule.name] = len(pairs)
        found.append(pairs)
    pairs = pd.concat(found, ignore_index=True).astype("string")
    pairs = pairs.drop_duplicates(ignore_index=True)
    stats.pairs = len(pairs)
    return pairs, stats


def _windowed(block: pd.DataFrame, window: int) -> pd.DataFrame:
    """Pairs of records within ``window`` positions of each other in (key, rank) order."""
    ordered = block.sort_values(["key", "rank"], kind="stable")
    ids, block_keys_ = ordered["id"].to_numpy(dtype=object), ordered["key"].to_numpy(dtype=object)
    left, right = [], []
    for offset in range(1, window):
        same = block_keys_[:-offset] == block_keys_[offset:]
        a, b = ids[:-offset][same], ids[offset:][same]
        left.append(np.where(a < b, a, b))
        right.append(np.where(a < b, b, a))
    if not left:
        return pd.DataFrame({"source_id": [], "target_id": []}, dtype="string")
    pairs = pd.DataFrame({"source_id": np.concatenate(left), "target_id": np.concatenate(right)})
    return pairs[pairs["source_id"] != pairs["target_id"]]


def pair_completeness(pairs: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Share of true matches that survived blocking (the recall ceiling of everything after it)."""
    if truth.empty:
        return float("nan")
    kept = truth.merge(pairs, on=["source_id", "target_id"], how="inner")
    return len(kept) / len(truth)


def reduction_ratio(n_pairs: int, n_sources: int, n_targets: int) -> float:
    """1 − pairs / all possible pairs: how much of the quadratic work blocking saved."""
    total = n_sources * n_targets
    return 1.0 - n_pairs / total if total else float("nan")
