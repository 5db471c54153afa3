"""Links in tweets: found in the text and the entities, normalised, one row per tweet and link.

A tweet's text holds `t.co` short links; its entities map them to the expanded URL the author
posted. When the entities are there, their expanded URLs are the links and the `t.co` copies in
the text are skipped; links in the text that no entity covers (text-only sources, a v1.1
retweet's cut text) are kept as written.

Normalising makes the same page one row however it was shared: scheme and host lower-cased,
`www.` and default ports dropped, tracking parameters (`utm_*`, `fbclid`, …) and fragments
removed, the remaining query sorted, a trailing slash dropped.
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'…]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
_SHORTENER = "t.co"
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|igshid|ref_src|ref_url)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str | None:
    """The canonical form of `url`, or None when it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip().rstrip(_TRAILING_PUNCTUATION))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().removeprefix("www.")
    if scheme not in _DEFAULT_PORTS or not host or "." not in host:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(key)
    )
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def domain(url: str) -> str:
    return urlsplit(url).hostname or ""


def links_of(text: str, entity_urls: str) -> list[tuple[str, str, str]]:
    """(normalised URL, as found, "entities" | "text") for each distinct link of one tweet."""
    found: list[tuple[str, str]] = [(url, "entities") for url in entity_urls.split()]
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if entity_urls and domain(url).lower() == _SHORTENER:
            continue  # the entities hold where this short link points
        found.append((url, "text"))
    links: dict[str, tuple[str, str, str]] = {}
    for url, where in found:
        normalised = normalise_url(url)
        if normalised is not None and normalised not in links:
            links[normalised] = (normalised, url, where)
    return list(links.values())


def extract_urls(tweets: pd.DataFrame) -> pd.DataFrame:
    """One row per (tweet, normalised link): `tweet_id, url, domain, original_url, found_in,
    created_at`, for tweets with `text` and `entity_urls` columns."""
    rows = [
        (tweet_id, url, domain(url), original, where, created_at)
        for tweet_id, text, entity_urls, created_at in zip(
            tweets["tweet_id"], tweets["text"], tweets["entity_urls"], tweets["created_at"],
            strict=True,
        )
        for url, original, where in links_of(str(text), str(entity_urls or ""))
    ]  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["tweet_id", "url", "domain", "original_url", "found_in", "created_at"]
    )
    return frame.astype({"tweet_id": "int64", "url": "str", "domain": "str"}).assign(
        created_at=pd.to_datetime(frame["created_at"], utc=True)
    )
