"""Comparison features for candidate pairs: one similarity per column and measure, vectorised.

Every column is compared according to its schema type, never its name, so any schema works. A
similarity is NaN when either side is missing (and a `<column>__missing` flag says so): a missing
value is no evidence either way, which the model must be able to tell apart from a mismatch.

Measures that weigh tokens (free text, lists) learn their weights from every record of the
column, not from the candidate pairs: "restaurant" or "inc" is common in the data, so sharing it
says little, while sharing a rare word or co-author says a lot (inverse document frequency).
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from rapidfuzz import distance, fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from ml_platform.entity_matching import normalise

# Which measures each column type gets; the first is the one the model's comparison levels use.
MEASURES: dict[str, tuple[str, ...]] = {
    "name": ("jaro_winkler", "levenshtein", "phonetic"),
    "text": ("levenshtein", "jaro_winkler", "tfidf"),
    "address": ("tfidf", "token_set", "levenshtein"),
    "date": ("osa", "day_month_swap", "year_difference"),
    "number": ("osa", "relative_difference"),
    "code": ("osa",),
    "free_text": ("tfidf_blend", "tfidf_words", "tfidf"),
    "list": ("idf_overlap", "jaccard"),
    "phone": ("osa",),
    "quantity": ("closeness",),
    "event_date": ("days_closeness", "year_difference"),
}

# Half-life of the closeness measures: a filing date 180 days away counts half as much as the
# same day, a quantity 10% away half as much as an equal one.
DAYS_HALF_LIFE = 180.0
RELATIVE_HALF_LIFE = 0.10
# Phone numbers are compared on their last digits: country and trunk prefixes are written or
# dropped at will ('+1 310 …', '(310) …', '310/…').
PHONE_DIGITS = 10

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
    prepared_sources = _normalised(sources, columns)
    prepared_targets = prepared_sources if targets is sources else _normalised(targets, columns)
    left = prepared_sources.iloc[s_pos].reset_index(drop=True)
    right = prepared_targets.iloc[t_pos].reset_index(drop=True)
    left, right = _align_swapped_names(left, right, columns)

    out: dict[str, np.ndarray] = {}
    for column, kind in columns.items():
        a, b = left[column], right[column]
        corpus = (
            prepared_sources[column]
            if targets is sources
            else pd.concat([prepared_sources[column], prepared_targets[column]], ignore_index=True)
        )
        missing = (a.isna() | b.isna()).to_numpy()
        for measure in MEASURES[kind]:
            values = _measure(measure, a, b, kind, corpus)
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
        elif kind == "phone":
            prepared[column] = normalise.digits(records[column]).str.slice(-PHONE_DIGITS)
        elif kind == "free_text":
            prepared[column] = normalise.clean_words(records[column])
        elif kind == "list":
            prepared[column] = normalise.list_items(records[column])
        elif kind in {"quantity", "event_date"}:
            prepared[column] = records[column].astype("string").str.strip()
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


def _measure(measure: str, a: pd.Series, b: pd.Series, kind: str, corpus: pd.Series) -> np.ndarray:
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
        return _tfidf_cosine(a, b, corpus)
    if measure == "tfidf_words":
        return _word_tfidf_cosine(a, b, corpus)
    if measure == "tfidf_blend":
        # words carry the weighting ("cafe" cheap, "philippe" dear), character fragments
        # forgive the typo or plural that makes two words differ ("philippe"/"philippes")
        return (_word_tfidf_cosine(a, b, corpus) + _tfidf_cosine(a, b, corpus)) / 2
    if measure == "idf_overlap":
        return _idf_overlap(a, b, corpus)
    if measure == "jaccard":
        return _jaccard(a, b)
    if measure == "closeness":
        x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        relative = (x - y).abs() / np.maximum(np.maximum(x.abs(), y.abs()), 1e-9)
        return np.power(0.5, relative.to_numpy(float) / RELATIVE_HALF_LIFE)
    if measure == "days_closeness":
        days = (_as_dates(a) - _as_dates(b)).dt.days.abs().to_numpy(float)
        return np.power(0.5, days / DAYS_HALF_LIFE)
    if measure == "day_month_swap":
        swapped = b.str.slice(0, 4) + b.str.slice(6, 8) + b.str.slice(4, 6)
        return ((a == swapped) & (a != b)).fillna(False).to_numpy(float)
    if measure == "year_difference":
        years_a = pd.to_numeric(normalise.digits(a).str.slice(0, 4), errors="coerce")
        years_b = pd.to_numeric(normalise.digits(b).str.slice(0, 4), errors="coerce")
        return (years_a - years_b).abs().clip(upper=100).to_numpy(float)
    if measure == "relative_difference":
        x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        return ((x - y).abs() / np.maximum(np.maximum(x.abs(), y.abs()), 1)).to_numpy(float)
    raise ValueError(f"unknown measure {measure!r} for a {kind} column")


def _as_dates(values: pd.Series) -> pd.Series:
    """Dates written YYYY-MM-DD, YYYYMMDD or YYYY/MM/DD; anything else is missing."""
    compact = normalise.digits(values).str.slice(0, 8)
    return pd.to_datetime(compact, format="%Y%m%d", errors="coerce")


class _TokenWeights:
    """TF-IDF vectors of a column's values, IDF counted over every record of the column.

    Fitted on the distinct values with each one's record count, which gives the IDF of the
    whole column (a word on 3,000 listings weighs as little as if each were seen) at the cost
    of the distinct values only.
    """

    def __init__(self, corpus: pd.Series, *, sublinear_tf: bool = False, **count_params):
        counts = corpus.dropna().value_counts()
        self.sublinear_tf = sublinear_tf
        self.counter = CountVectorizer(dtype=np.float32, **count_params)
        presence = self.counter.fit_transform(counts.index.astype(str)) > 0
        document_frequency = np.asarray(presence.T @ counts.to_numpy(np.float64)).ravel()
        n = counts.sum()
        self.idf = (np.log((1 + n) / (1 + document_frequency)) + 1).astype(np.float32)

    def transform(self, values: np.ndarray | pd.Index) -> sparse.csr_matrix:
        matrix = self.counter.transform(values).astype(np.float32)
        if self.sublinear_tf:
            matrix.data = np.log1p(matrix.data)
        return normalize(matrix.multiply(self.idf).tocsr())


def _cosine_of_unique(weights: _TokenWeights, a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise cosine of two aligned text columns, each distinct value vectorised once."""
    codes_a, uniques_a = pd.factorize(a.fillna(""))
    codes_b, uniques_b = pd.factorize(b.fillna(""))
    matrix_a = weights.transform(np.asarray(uniques_a, dtype=object))[codes_a]
    matrix_b = weights.transform(np.asarray(uniques_b, dtype=object))[codes_b]
    return np.asarray(matrix_a.multiply(matrix_b).sum(axis=1)).ravel().astype(np.float64)


def _tfidf_cosine(a: pd.Series, b: pd.Series, corpus: pd.Series) -> np.ndarray:
    """Cosine of character 2–3-gram TF-IDF vectors: rare shared fragments count more than common."""
    weights = _TokenWeights(corpus, analyzer="char_wb", ngram_range=(2, 3))
    return _cosine_of_unique(weights, a, b)


def _word_tfidf_cosine(a: pd.Series, b: pd.Series, corpus: pd.Series) -> np.ndarray:
    """Cosine of word TF-IDF vectors (sublinear term frequency, IDF over the column's records):
    a word on many listings ("restaurant", "cafe") weighs little and a rare one decides."""
    weights = _TokenWeights(corpus, analyzer="word", token_pattern=r"[0-9a-z]+", sublinear_tf=True)
    return _cosine_of_unique(weights, a, b)


def _items(text: str) -> list[str]:
    return [item for item in text.split(normalise.LIST_SEPARATOR) if item]


def _idf_overlap(a: pd.Series, b: pd.Series, corpus: pd.Series) -> np.ndarray:
    """Cosine of binary item vectors weighted by each item's IDF over the column.

    Two inventors sharing a co-inventor named "Lee" is weak evidence; sharing "Takamiya" is
    strong. Binary: an item listed twice in one record is still one item.
    """
    return _cosine_of_unique(_TokenWeights(corpus, analyzer=_items, binary=True), a, b)


def _jaccard(a: pd.Series, b: pd.Series) -> np.ndarray:
    """|A ∩ B| / |A ∪ B| of the two item sets, from binary item counts (no weighting)."""
    counter = CountVectorizer(analyzer=_items, binary=True, dtype=np.float32)
    counter.fit(pd.concat([a, b]).dropna().drop_duplicates())
    codes_a, uniques_a = pd.factorize(a.fillna(""))
    codes_b, uniques_b = pd.factorize(b.fillna(""))
    matrix_a = counter.transform(uniques_a)[codes_a]
    matrix_b = counter.transform(uniques_b)[codes_b]
    shared = np.asarray(matrix_a.multiply(matrix_b).sum(axis=1)).ravel()
    union = np.asarray(matrix_a.sum(axis=1)).ravel() + np.asarray(matrix_b.sum(axis=1)).ravel()
    union = union - shared
    return np.divide(shared, union, out=np.zeros(len(a)), where=union > 0)
