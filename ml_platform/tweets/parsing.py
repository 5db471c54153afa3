"""Tweets as JSON lines in the Twitter API shapes: the parser every tweet source goes through.

Both API versions load to one shape (`TWEET_COLUMNS`), so the stream, the labelling functions
and the classifier never ask which one they got:

- v1.1 (REST/streaming, extended or compatibility mode): `id_str`/`id`, `full_text`, or `text`
  with `extended_tweet.full_text`; `created_at` as "Wed Oct 10 20:19:24 +0000 2018";
  `entities.urls[].expanded_url`; `retweeted_status` (a retweet's own `text` is the truncated
  "RT @user: …", its full text is the original's); `lang`; `user.screen_name`.
- v2 (filtered stream, search pages): `{"data": {...} | [...], "includes": {"users": [...]}}`
  or a bare tweet object; `id` (a string), `text` (`note_tweet.text` when longer), ISO
  `created_at`, `entities.urls[].expanded_url`, `referenced_tweets[type=retweeted]`,
  `author_id` resolved to `username` through `includes.users`.

Columns: `tweet_id:int64` (snowflake ids fit), `created_at:datetime64[UTC]`, `text:str` (the
full text; a retweet's is "RT @user: " + the original's full text), `lang:str` ("und" when
absent), `user_screen_name:str` ("" when unknown), `entity_urls:str` (the entities' expanded
URLs, space-joined: a plain string survives Parquet, CSV and SQL unchanged),
`retweeted_id:Int64`, `source_format:str` ("v1.1" or "v2"), and `label:Int64` (1 = about AI,
0 = not) when the file carries a `label` field (files written for `tweets train`).

The seeded stream generator of the same shapes lives in `ml_platform.demo_data.tweets`; its
truth file (`tweet_id,is_ai`) is read here (`load_truth`, `parse_truth`), for evaluation.
"""

import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator

TWEET_COLUMNS = (
    "tweet_id",
    "created_at",
    "text",
    "lang",
    "user_screen_name",
    "entity_urls",
    "retweeted_id",
    "source_format",
)
# bools are ints in Python: True/False map through 1/0
LABEL_VALUES = {0: 0, 1: 1, "0": 0, "1": 1, "true": 1, "false": 0, "ai": 1, "not_ai": 0}
V1_DATE_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_MAX_TWEET_ID = 2**63 - 1


# --- parsing ------------------------------------------------------------------------------

# The API's deepest shape (a retweet's quoted tweet's extended entities' indices) nests about a
# dozen levels; a line nested deeper is refused before `json.loads`, whose C decoder recurses
# once per level and would raise RecursionError (or crash a thread with a small stack).
MAX_NESTING = 64
# Values quoted in error messages (and the dead-letter table's index) are cut to this length.
_SHOWN_CHARACTERS = 60


@dataclass(frozen=True)
class ParsedTweet:
    """One tweet in the common shape, `created_at` still as the API wrote it (parsed in bulk)."""

    tweet_id: int
    created_at: str
    text: str
    lang: str
    user_screen_name: str
    entity_urls: str
    retweeted_id: int | None
    source_format: str
    label: int | None


@dataclass(frozen=True)
class RejectedLine:
    """A line (or stream message) that is not a tweet: where it was, why, and the line itself,
    so a dead-letter store keeps it for a person to fix and replay."""

    origin: str  # the file or the message ("topic/partition/offset")
    line: int | None  # 1-based line in the file; None for a stream message
    problem: str
    document: str  # the line as received (undecodable bytes escaped)

    def __str__(self) -> str:
        where = self.origin if self.line is None else f"{self.origin}: line {self.line}"
        return f"{where}: {self.problem}"


class TweetFormatError(ValueError):
    """A message that is not a tweet; `field` names what is wrong, for the caller's location."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field '{field}' {problem}")
        self.field = field
        self.problem = problem


def _shown(value: Any) -> str:
    """`repr` of a value, cut short: a message names the value, it does not copy a megabyte."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


def decode_document(document: bytes | str) -> Any:
    """One JSON document; ValueError when it is not JSON, or nests deeper than `MAX_NESTING`
    (checked first, without recursion)."""
    data = document if isinstance(document, bytes) else document.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _nesting(data) > MAX_NESTING:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    return json.loads(document)


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _nesting(data: bytes) -> int:
    """How deep brackets nest outside strings, in C-speed passes (regex, translate, cumsum)."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_tweet_objects(message: Any) -> list[ParsedTweet]:
    """The tweets in one decoded JSON message (a v2 page holds several); raises TweetFormatError.

    Shared by the file loader and the stream sources, so a tweet from Kafka and the same tweet
    from a landed file load identically. Every field is type-checked before use: a message of
    another shape is a TweetFormatError naming the field, never an AttributeError or TypeError.
    """
    if not isinstance(message, Mapping):
        raise TweetFormatError("(message)", f"is a JSON {_json_type(message)}, expected an object")
    label = _label(message)
    if "data" in message:
        data = message["data"]
        includes = _object(message, "includes")
        users = {
            str(u.get("id")): _string(u, "username", required=False)
            for u in _array(includes, "users", "includes.users")
            if isinstance(u, Mapping)
        }
        items = data if isinstance(data, list) else [data]
        if not items or not all(isinstance(item, Mapping) for item in items):
            raise TweetFormatError("data", "must be a tweet object or a list of them")
        return [_v2(item, users, _label(item) if label is None else label) for item in items]
    if "user" in message or "id_str" in message or "full_text" in message:
        return [_v1(message, label)]
    return [_v2(message, {}, label)]


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _object(obj: Mapping[str, Any], field: str, name: str | None = None) -> Mapping[str, Any]:
    """An optional nested object: absent or null is empty, any other type an error."""
    value = obj.get(field)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TweetFormatError(name or field, f"is a JSON {_json_type(value)}, expected an object")
    return value


def _array(obj: Mapping[str, Any], field: str, name: str | None = None) -> list[Any]:
    """An optional array: absent or null is empty, any other type an error."""
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TweetFormatError(name or field, f"is a JSON {_json_type(value)}, expected an array")
    return value


def _label(obj: Mapping[str, Any]) -> int | None:
    if "label" not in obj or obj["label"] is None:
        return None
    value = obj["label"]
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, float) and key in (0.0, 1.0):
        key = int(key)
    if not isinstance(key, int | str) or key not in LABEL_VALUES:
        raise TweetFormatError(
            "label", f"is {_shown(value)}, expected 1/0, true/false or 'ai'/'not_ai'"
        )
    return LABEL_VALUES[key]


def _tweet_id(obj: Mapping[str, Any], field: str, name: str | None = None) -> int:
    value = obj.get(field)
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d{1,19}", text) or int(text) > _MAX_TWEET_ID:
        raise TweetFormatError(name or field, f"is {_shown(value)}, expected a tweet id (digits)")
    return int(text)


def _string(
    obj: Mapping[str, Any], field: str, *, required: bool = True, name: str | None = None
) -> str:
    """A string field that every table can store: PostgreSQL text holds no NUL character, and
    a lone surrogate ("\\ud800", valid JSON) is not Unicode any encoder writes."""
    value = obj.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise TweetFormatError(name or field, f"is {_shown(value)}, expected a string")
    if "\x00" in value:
        raise TweetFormatError(name or field, "contains a NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise TweetFormatError(
            name or field, f"contains a lone surrogate ({value[error.start]!r}), not Unicode text"
        ) from None
    return value


def _expanded_urls(entities: Mapping[str, Any], name: str) -> str:
    found = [
        _string(u, "expanded_url", required=False, name=f"{name}.urls[].expanded_url")
        or _string(u, "url", required=False, name=f"{name}.urls[].url")
        for u in _array(entities, "urls", f"{name}.urls")
        if isinstance(u, Mapping)
    ]
    return " ".join(url for url in found if url)


def _v1(obj: Mapping[str, Any], label: int | None, *, retweet: bool = True) -> ParsedTweet:
    """A v1.1 tweet; `retweet` False for the original inside a retweet, whose own
    `retweeted_status` the API never sets and this parser never follows (no recursion)."""
    tweet_id = _tweet_id(obj, "id_str" if "id_str" in obj else "id")
    extended = _object(obj, "extended_tweet")
    if "full_text" in obj:
        text = _string(obj, "full_text")
    elif "full_text" in extended:
        text = _string(extended, "full_text", name="extended_tweet.full_text")
    else:
        text = _string(obj, "text")
    if extended.get("entities"):
        entity_urls = _expanded_urls(_object(extended, "entities"), "extended_tweet.entities")
    else:
        entity_urls = _expanded_urls(_object(obj, "entities"), "entities")
    retweeted = _object(obj, "retweeted_status") if retweet else {}
    retweeted_id = None
    if retweeted:
        try:
            original = _v1(retweeted, None, retweet=False)
            author = _string(_object(retweeted, "user"), "screen_name", required=False)
        except TweetFormatError as error:  # named from the retweet, where the line has it
            raise TweetFormatError(f"retweeted_status.{error.field}", error.problem) from None
        retweeted_id = original.tweet_id
        # a retweet's own text is cut at 140 characters; the original holds the whole of it
        text = f"RT @{author}: {original.text}"
        if not entity_urls:  # the retweet's own entities cover its cut text only
            entity_urls = original.entity_urls
    user = _object(obj, "user")
    return ParsedTweet(
        tweet_id=tweet_id,
        created_at=_string(obj, "created_at"),
        text=text,
        lang=_string(obj, "lang", required=False) or "und",
        user_screen_name=_string(user, "screen_name", required=False, name="user.screen_name"),
        entity_urls=entity_urls,
        retweeted_id=retweeted_id,
        source_format="v1.1",
        label=label,
    )


def _v2(obj: Mapping[str, Any], users: Mapping[str, str], label: int | None) -> ParsedTweet:
    note = _object(obj, "note_tweet")
    text = _string(note, "text", name="note_tweet.text") if "text" in note else None
    retweeted = [
        ref
        for ref in _array(obj, "referenced_tweets")
        if isinstance(ref, Mapping) and ref.get("type") == "retweeted"
    ]
    return ParsedTweet(
        tweet_id=_tweet_id(obj, "id"),
        created_at=_string(obj, "created_at"),
        text=text if text is not None else _string(obj, "text"),
        lang=_string(obj, "lang", required=False) or "und",
        user_screen_name=users.get(str(obj.get("author_id")), ""),
        entity_urls=_expanded_urls(_object(obj, "entities"), "entities"),
        retweeted_id=_tweet_id(retweeted[0], "id", "referenced_tweets[].id") if retweeted else None,
        source_format="v2",
        label=label,
    )


def _frame(
    rows: list[ParsedTweet], places: list[RejectedLine], *, strict: bool
) -> tuple[pd.DataFrame, np.ndarray, list[RejectedLine]]:
    """Dates are parsed in bulk per API format (v1.1's "Wed Oct 10 …" and v2's ISO 8601), which
    is what lets a micro-batch of thousands of tweets load in milliseconds. `places` says where
    each row's document was. Not strict: rows whose date does not parse are dropped and
    returned as rejected lines."""
    raw_dates = pd.Series([r.created_at for r in rows], dtype="str")
    created = _parse_dates(raw_dates)
    bad = created.isna().to_numpy()
    keep = ~bad
    rejected = [
        replace(
            places[i],
            problem=f"field 'created_at' is {_shown(raw_dates.iloc[i])}, expected "
            "'Wed Oct 10 20:19:24 +0000 2018' (v1.1) or ISO 8601 (v2)",
        )
        for i in np.flatnonzero(bad).tolist()
    ]
    if rejected and strict:
        more = f" ({len(rejected) - 1} more row(s) like this)" if len(rejected) > 1 else ""
        raise InvalidInputError(f"{rejected[0]}{more}")
    if rejected:
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        created = created[keep].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "tweet_id": pd.array([r.tweet_id for r in rows], dtype="int64"),
            "created_at": created,
            "text": pd.array([r.text for r in rows], dtype="str"),
            "lang": pd.array([r.lang for r in rows], dtype="str"),
            "user_screen_name": pd.array([r.user_screen_name for r in rows], dtype="str"),
            "entity_urls": pd.array([r.entity_urls for r in rows], dtype="str"),
            "retweeted_id": pd.array([r.retweeted_id for r in rows], dtype="Int64"),
            "source_format": pd.array([r.source_format for r in rows], dtype="str"),
        }
    )
    labels = [r.label for r in rows]
    if any(label is not None for label in labels):
        frame["label"] = pd.array(labels, dtype="Int64")
    return frame, keep, rejected


def _parse_dates(raw: pd.Series) -> pd.Series:
    iso = raw.str.match(r"\d{4}-")
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if iso.any():
        parsed[iso] = pd.to_datetime(raw[iso], format="ISO8601", utc=True, errors="coerce")
    if (~iso).any():
        parsed[~iso] = pd.to_datetime(raw[~iso], format=V1_DATE_FORMAT, utc=True, errors="coerce")
    return parsed


def load_tweets(path: str | Path, *, require_label: bool = False) -> pd.DataFrame:
    """Tweets from a JSON-lines file (one API message per line, blank lines skipped).

    Errors name the file, the line and the field. With `require_label`, every tweet must carry
    a `label` (the training file of `ml-platform tweets train`).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    with path.open("rb") as file:
        return parse_json_lines(file, str(path), require_label=require_label)


def parse_json_lines(
    lines: Iterable[bytes | str], origin: str, *, require_label: bool = False
) -> pd.DataFrame:
    """`load_tweets` over any iterable of lines, named `origin` in errors."""
    frame, _ = read_json_lines(lines, origin, strict=True)
    if require_label:
        labels = frame["label"] if "label" in frame else pd.Series(pd.NA, index=frame.index)
        missing = labels.isna().to_numpy()
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            raise InvalidInputError(
                f"{origin}: tweet {first + 1} (id {frame['tweet_id'].iloc[first]}): field "
                f"'label' is missing, expected 1 (about AI) or 0 ({int(missing.sum())} tweet(s) "
                "without a label)"
            )
        if frame.empty:
            raise InvalidInputError(f"{origin}: no tweets")
    return frame


def read_json_lines(
    lines: Iterable[bytes | str], origin: str, *, strict: bool
) -> tuple[pd.DataFrame, list[RejectedLine]]:
    """Tweets from JSON lines, and (not strict) the lines left out, each with its reason.

    A stream must not stop at one bad message, so the stream sources read leniently and keep
    each rejected line with its file, line and field; files given by a person are read
    strictly, failing on the first problem.
    """
    numbered = ((line, origin, n) for n, line in enumerate(lines, start=1))
    frame, rejected, _ = _read_documents(numbered, strict=strict)
    return frame, rejected


def read_messages(
    values: Sequence[bytes | str], origins: Sequence[str]
) -> tuple[pd.DataFrame, list[RejectedLine], np.ndarray]:
    """Tweets from stream messages of one JSON document each (a v2 one may hold several), read
    leniently; also, per tweet, the index of the message it came from."""
    documents = ((value, origin, None) for value, origin in zip(values, origins, strict=True))
    return _read_documents(documents, strict=False)


def _read_documents(
    documents: Iterable[tuple[bytes | str, str, int | None]], *, strict: bool
) -> tuple[pd.DataFrame, list[RejectedLine], np.ndarray]:
    parsed: list[ParsedTweet] = []
    places: list[RejectedLine] = []
    sources: list[int] = []
    rejected: list[RejectedLine] = []
    for index, (document, origin, line) in enumerate(documents):
        if not document.strip():
            continue
        place = RejectedLine(origin, line, "", _as_text(document))
        try:
            tweets = parse_tweet_objects(decode_document(document))
        except TweetFormatError as error:
            problem = str(error)
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, too deep, too long
            problem = f"not valid JSON ({error})"
        else:
            parsed.extend(tweets)
            places.extend([place] * len(tweets))
            sources.extend([index] * len(tweets))
            continue
        if strict:
            raise InvalidInputError(str(replace(place, problem=problem)))
        rejected.append(replace(place, problem=problem))
    frame, keep, bad_dates = _frame(parsed, places, strict=strict)
    return frame, rejected + bad_dates, np.asarray(sources, dtype=np.int64)[keep]


def _as_text(document: bytes | str) -> str:
    """The document as storable text: undecodable bytes and NULs escaped, lone surrogates too."""
    text = document.decode("utf-8", "backslashreplace") if isinstance(document, bytes) else document
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00").rstrip("\r\n")


def json_lines(messages: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One compact JSON document per line, as the APIs stream them."""
    for message in messages:
        yield json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n"


def load_truth(path: str | Path) -> pd.DataFrame:
    """The generator's truth file (`tweet_id,is_ai`), for evaluation only."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: file not found")
    return parse_truth(path.read_bytes(), str(path))


def parse_truth(data: bytes, origin: str) -> pd.DataFrame:
    """`load_truth` over the file's bytes (read from wherever it is stored)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    missing = {"tweet_id", "is_ai"} - set(frame.columns)
    if missing:
        raise InvalidInputError(f"{origin}: missing column(s) {sorted(missing)}")
    rows = RowLocator(origin, first_line=2)
    truth = pd.DataFrame(
        {
            "tweet_id": rows.ids(frame["tweet_id"], "tweet_id"),
            "is_ai": rows.integers(frame["is_ai"], "is_ai"),
        }
    )
    rows.fail_on_first(
        ~truth["is_ai"].isin([0, 1]), "column 'is_ai' is {value}, expected 0 or 1", truth["is_ai"]
    )
    return truth
