"""Value normalisation shared by blocking and comparison, so both see the same spelling of a value."""

import functools
import re
from collections.abc import Callable

import jellyfish
import numpy as np
import pandas as pd

_NOT_ALNUM = re.compile(r"[^0-9a-z ]+")
_SPACES = re.compile(r"\s+")


def per_distinct(
    function: Callable[[pd.Series], pd.Series],
) -> Callable[[pd.Series], pd.Series]:
    """Run a value-wise normalisation once per distinct value and spread the results back.

    Real columns repeat values (cities, surnames, the same value on both sides of many
    candidate pairs); pandas' string methods cost per element, so this is what keeps
    normalising 100,000s of pair rows cheap.
    """

    @functools.wraps(function)
    def on_distinct(values: pd.Series) -> pd.Series:
        codes, uniques = pd.factorize(values.astype("string"))
        result = function(pd.Series(uniques, dtype="string")).astype("string").to_numpy()
        taken = np.asarray(result, dtype=object)[np.maximum(codes, 0)] if len(result) else codes
        out = pd.Series(taken, index=values.index, dtype="string")
        return out.mask(codes < 0)

    return on_distinct


@per_distinct
def clean_text(values: pd.Series) -> pd.Series:
    """Lower-case, punctuation to spaces, one space between words; missing stays missing."""
    text = values.astype("string").str.lower()
    text = text.str.replace(_NOT_ALNUM, " ", regex=True).str.replace(_SPACES, " ", regex=True)
    text = text.str.strip()
    return text.mask(text == "")


# Items of a list column after normalisation; a character clean_text never leaves in a value.
LIST_SEPARATOR = "|"
_APOSTROPHES = re.compile(r"['\u2019`]")


@per_distinct
def clean_words(values: pd.Series) -> pd.Series:
    """Clean text with apostrophes dropped first: "morton's" and "mortons" are one word."""
    return clean_text(values.astype("string").str.replace(_APOSTROPHES, "", regex=True))


@per_distinct
def list_items(values: pd.Series) -> pd.Series:
    """A list value's items, cleaned and sorted, joined by LIST_SEPARATOR; missing if none.

    Items are separated by ';' when the value has one ('Lee, Seok Ju; Kim, Ji Ho'), otherwise
    by whitespace ('H04N G06F'). Sorted and deduplicated: a list's order carries no identity.
    """
    text = values.astype("string")
    has_semicolon = text.str.contains(";", regex=False).fillna(False)
    items = text.where(has_semicolon, text.str.replace(r"\s+", ";", regex=True)).str.split(";")

    def tidy(parts: object) -> object:
        if not isinstance(parts, list):
            return pd.NA
        cleaned = sorted({_SPACES.sub(" ", _NOT_ALNUM.sub(" ", p.lower())).strip() for p in parts})
        cleaned = [item for item in cleaned if item]
        return LIST_SEPARATOR.join(cleaned) if cleaned else pd.NA

    return items.map(tidy).astype("string")


@per_distinct
def squeeze(values: pd.Series) -> pd.Series:
    """Clean text with the spaces removed: 'har risn' and 'harrisn' are the same name typed twice."""
    return clean_text(values).str.replace(" ", "", regex=False)


@per_distinct
def digits(values: pd.Series) -> pd.Series:
    """Only the digits of a code or number ('4223 ' → '4223'); missing if none are left."""
    text = values.astype("string").str.replace(r"\D+", "", regex=True)
    return text.mask(text == "")


@per_distinct
def phonetic(values: pd.Series) -> pd.Series:
    """Soundex of the squeezed value: tolerant to vowel typos and most phonetic misspellings."""
    squeezed = squeeze(values)
    unique = squeezed.dropna().unique()
    codes = {value: jellyfish.soundex(value) for value in unique}
    return squeezed.map(codes).astype("string")


@per_distinct
def first_word(values: pd.Series) -> pd.Series:
    """The first word of a cleaned text, the part of an address or name least often corrupted."""
    return clean_text(values).str.split(" ").str[0]


def to_object_array(values: pd.Series) -> np.ndarray:
    """Strings with '' for missing: the form rapidfuzz's vectorised scorers take."""
    return values.astype("string").fillna("").to_numpy(dtype=object)
