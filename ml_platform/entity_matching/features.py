"""Comparison features for candidate pairs: one similarity per column and measure, vectorised.

Every column is compared according to its schema type, never its name, so any schema works. A
similarity is NaN when either side is missing (and a `<column>__missing` flag says so): a missing
value is no evidence either way, which the model must be able to tell apart from a mismatch.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from rapidfuzz import distance, fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer

from ml_platform.entity_matching import normalise

# Which measures each column type gets; the first is the one the model's comparison levels use.
MEASURES: dict[str, tuple[str, ...]] = {
    "name": ("jaro_winkler", "levenshtein", "phonetic"),
    "text": ("levenshtein", "jaro_winkler", "tfidf"),
    "address": ("tfidf", "token_set", "levenshtein"),
    "date": ("osa", "day_month_swap", "year_difference"),
    "number": ("osa", "relative_difference"),
    "code": ("osa",),
}

_SCORERS = {
    "jaro_winkler": distance.JaroWinkler.normalized_similarity,
    "levenshtein": distance.Levenshtein.normalized_similarity,
    "osa": distance.OSA.normalized_similarity,  # a transposition ('4223'→'4232') is one edit
}


def feature_name(column: str, measure: str) -> str:
    return f"{column}__{measure}"


def compare(
    pairs: pd.DataFrame,
    sources: pd.DataFrame,
    targets: pd.DataFrame,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """One row per pair: source_id, target_id, then float32 features per column and measure."""
    s_pos = pd.Index(sources["id"]).get_indexer(pairs["source_id"])
    t_pos = pd.Index(targets["id"]).get_indexer(pairs["target_id"])
    if (s_pos < 0).any() or (t_pos < 0).any():
        raise ValueError("compare: a pair names a source or target id that is not in the records")
    left = _normalised(sources, columns).iloc[s_pos].reset_index(drop=True)
    right = _normalised(targets, columns).iloc[t_pos].reset_index(drop=True)
    left, right = _align_swapped_names(left, right, columns)

    out: dict[str, np.ndarray] = {}
    for column, kind in columns.items():
        a, b = left[column], right[column]
        missing = (a.isna() | b.isna()).to_numpy()
        for measure in MEASURES[kind]:
            values = _measure(measure, a, b, kind)
            values[missing] = np.nan
            out[feature_name(column, measure)] = values.astype(np.float32)
        out[feature_name(column, "missing")] = missing.astype(np.float32)
    features = pd.DataFrame(out)
    features.insert(0, "target_id", pairs["target_id"].to_numpy())
    features.insert(0, "source_id", pairs["source_id"].to_numpy())
    return features


def feature_columns(features: pd.DataFrame) -> list[str]:
    return [c for c in features.columns if "__" in c]


def _normalised(records: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """The spelling every measure compares: squeezed names, digits of dates/codes/numbers."""
    prepared = {}
    for column, kind in columns.items():
        if kind == "name":
            prepared[column] = normalise.squeeze(records[column])
        elif kind in {"date", "number"}:
            prepared[column] = normalise.digits(records[column])
        else:
            prepared[column] = normalise.clean_text(records[column])
    return pd.DataFrame(prepared)


def _align_swapped_names(
    left: pd.DataFrame, right: pd.DataFrame, columns: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Swap the first two name columns on the source side where that makes them agree better.

    Given and family names swapped on a form is one of the commonest errors; comparing them
    crosswise keeps a swap from looking like two mismatched names.
    """
    names = [c for c, kind in columns.items() if kind == "name"][:2]
    if len(names) < 2:
        return left, right
    first, second = names
    scorer = _SCORERS["jaro_winkler"]

    def score(a: pd.Series, b: pd.Series) -> np.ndarray:
        return _cpdist(a, b, scorer)

    straight = score(left[first], right[first]) + score(left[second], right[second])
    crossed = score(left[first], right[second]) + score(left[second], right[first])
    swap = crossed > straight
    if swap.any():
        left = left.copy()
        a, b = left.loc[swap, first].copy(), left.loc[swap, second].copy()
        left.loc[swap, first], left.loc[swap, second] = b, a
    return left, right


def _cpdist(a: pd.Series, b: pd.Series, scorer) -> np.ndarray:
    return process.cpdist(
        normalise.to_object_array(a), normalise.to_object_array(b), scorer=scorer, workers=-1
    ).astype(np.float64)


def _measure(measure: str, a: pd.Series, b: pd.Series, kind: str) -> np.ndarray:
    if measure in _SCORERS:
        return _cpdist(a, b, _SCORERS[measure])
    if a.isna().all() or b.isna().all():  # a column empty on one side: no evidence, nothing to fit
        return np.full(len(a), np.nan)
    if measure == "phonetic":
        return (normalise.phonetic(a) == normalise.phonetic(b)).fillna(False).to_numpy(float)
    if measure == "token_set":
        return (
            process.cpdist(
                normalise.to_object_array(a),
                normalise.to_object_array(b),
                scorer=fuzz.token_set_ratio,
                workers=-1,
            ).astype(np.float64)
            / 100.0
        )
    if measure == "tfidf":
        return _tfidf_cosine(a, b)
    if measure == "day_month_swap":
        swapped = b.str.slice(0, 4) + b.str.slice(6, 8) + b.str.slice(4, 6)
        return ((a == swapped) & (a != b)).fillna(False).to_numpy(float)
    if measure == "year_difference":
        years_a = pd.to_numeric(a.str.slice(0, 4), errors="coerce")
        years_b = pd.to_numeric(b.str.slice(0, 4), errors="coerce")
        return (years_a - years_b).abs().clip(upper=100).to_numpy(float)
    if measure == "relative_difference":
        x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        return ((x - y).abs() / np.maximum(np.maximum(x.abs(), y.abs()), 1)).to_numpy(float)
    raise ValueError(f"unknown measure {measure!r} for a {kind} column")


def _tfidf_cosine(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cosine of character 2–3-gram TF-IDF vectors: rare shared fragments count more than common."""
    a_text, b_text = a.fillna(""), b.fillna("")
    vocabulary = pd.concat([a_text, b_text]).drop_duplicates()
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), dtype=np.float32)
    vectoriser.fit(vocabulary)
    codes_a, uniques_a = pd.factorize(a_text)
    codes_b, uniques_b = pd.factorize(b_text)
    matrix_a = vectoriser.transform(uniques_a)[codes_a]
    matrix_b = vectoriser.transform(uniques_b)[codes_b]
    return np.asarray(matrix_a.multiply(matrix_b).sum(axis=1)).ravel().astype(np.float64)
