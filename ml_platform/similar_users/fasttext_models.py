"""One gensim FastText model per behaviour table, trained on each user's items as a "sentence".

A user's interests (or assessed skills, or viewed courses) are a set, not prose: every item is
context for every other, so the window spans the whole sentence and does not shrink, and the
order is shuffled once (seeded) so no item is tied to its neighbours by the date it was added.
Course views also learn from `course_tags`: every course adds a sentence of itself and its tags,
so a course few people watched still lands near its topic and tags share the space of courses
(writing each course's tags after it in every view sentence as well tripled the tokens and
training time for +0.008 leave-out hit rate on 10,000 generated users).
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml_platform.core.config import ConfigModel
from ml_platform.core.errors import InvalidInputError
from ml_platform.similar_users.embedding import normalise_token
from ml_platform.similar_users.learners import LearnerTables
from ml_platform.similar_users.subwords import SubwordVectors

# The embedded user tables and the column holding their items.
ITEM_COLUMNS = {
    "user_assessment_scores": "assessment_tag",
    "user_course_views": "course_id",
    "user_interests": "interest_tag",
}


class FastTextConfig(ConfigModel):
    """Defaults tuned on generated data of 10,000 users (benchmarks/similar_users.py); also the
    similar-users resource's config keys of the same names."""

    vector_size: int = 48  # 64 scored no better; cost grows with it in training and serving
    window: int = 10  # of a set: half the median sentence either side, the rest over epochs
    epochs: int = 5  # 10 epochs and window 20: +0.015 hit rate for 5× the training time
    min_count: int = 1  # a rare tag is exactly what subword vectors are for
    min_n: int = 3
    max_n: int = 4  # 5 adds a third more n-grams per word, and slugs are long
    buckets: int = 200_000
    negative: int = 5
    sample: float = 1e-4  # drops most occurrences of the few tags half a community follows
    skip_gram: bool = True
    workers: int = 2
    seed: int = 42
    # Small tables get more epochs, up to this many tokens seen in all: what makes vectors is
    # the number of updates, and 5 passes over 600 users' interests leave them near random.
    min_tokens_seen: int = 1_500_000
    max_epochs: int = 100

    def epochs_for(self, tokens: int) -> int:
        return max(
            self.epochs, min(self.max_epochs, math.ceil(self.min_tokens_seen / max(tokens, 1)))
        )


@dataclass
class TableModel:
    """A table's trained vectors and how they came about (the FastText model asset's value)."""

    table: str
    vectors: SubwordVectors
    item_counts: dict[str, int]  # rows per item in the table: popularity for weighting
    config: FastTextConfig
    train_seconds: float
    sentences: int
    tokens: int
    epochs: int
    ngram_buckets_trained: int = field(init=False)

    def __post_init__(self) -> None:
        self.ngram_buckets_trained = len(self.vectors.ngram_rows)

    def summary(self) -> dict[str, float]:
        """Figures for the asset's metadata."""
        return {
            "vocabulary": len(self.vectors),
            "items": len(self.item_counts),
            "ngram_buckets_trained": self.ngram_buckets_trained,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "epochs": self.epochs,
            "train_seconds": self.train_seconds,
        }

    def params(self) -> dict[str, object]:
        return {"table": self.table, **self.config.model_dump()}


def table_items(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """`user_handle, item` rows of a user table, items normalised, blank ones dropped."""
    items = pd.DataFrame(
        {
            "user_handle": rows["user_handle"].astype("str"),
            "item": rows[ITEM_COLUMNS[table]].astype("str").map(normalise_token),
        }
    )
    return items.loc[items["item"] != ""]


def course_tag_lists(course_tags: pd.DataFrame) -> dict[str, list[str]]:
    """Course id → its tags (normalised, de-duplicated, untagged courses left out)."""
    tags = pd.DataFrame(
        {
            "course_id": course_tags["course_id"].astype("str").map(normalise_token),
            "tag": course_tags["course_tags"].astype("str").map(normalise_token),
        }
    )
    tags = tags.loc[tags["tag"] != ""].drop_duplicates()
    return {course: group.tolist() for course, group in tags.groupby("course_id")["tag"]}


def sentences(
    table: str, rows: pd.DataFrame, seed: int, course_tags: pd.DataFrame | None = None
) -> list[list[str]]:
    """The training corpus of one table (see the module docstring)."""
    rng = np.random.default_rng(seed)
    items = table_items(table, rows).drop_duplicates()
    corpus = [group.tolist() for _, group in items.groupby("user_handle", sort=True)["item"]]
    if course_tags is not None:
        corpus += [[course, *tags] for course, tags in course_tag_lists(course_tags).items()]
    for sentence in corpus:
        rng.shuffle(sentence)
    return corpus


def train_table_model(
    table: str,
    rows: pd.DataFrame,
    config: FastTextConfig | None = None,
    course_tags: pd.DataFrame | None = None,
) -> TableModel:
    """Train one table's FastText model (`course_tags` for the course views) and export the
    vectors serving needs."""
    from gensim.models import FastText

    if table not in ITEM_COLUMNS:
        raise ValueError(f"no FastText model for table '{table}': one of {list(ITEM_COLUMNS)}")
    config = config or FastTextConfig()
    corpus = sentences(table, rows, config.seed, course_tags)
    if not corpus:
        raise InvalidInputError(f"table {table} has no rows to train its FastText model on")
    started = time.perf_counter()
    model = FastText(
        vector_size=config.vector_size,
        window=config.window,
        min_count=config.min_count,
        min_n=config.min_n,
        max_n=config.max_n,
        bucket=config.buckets,
        negative=config.negative,
        sample=config.sample,
        sg=int(config.skip_gram),
        workers=config.workers,
        seed=config.seed,
        shrink_windows=False,
    )
    model.build_vocab(corpus_iterable=corpus)
    tokens = sum(map(len, corpus))
    epochs = config.epochs_for(tokens)
    model.train(corpus_iterable=corpus, total_examples=len(corpus), epochs=epochs)
    seconds = time.perf_counter() - started
    counts = table_items(table, rows)["item"].value_counts()
    return TableModel(
        table=table,
        vectors=SubwordVectors.from_gensim(model.wv),
        item_counts={str(k): int(v) for k, v in counts.items()},
        config=config,
        train_seconds=seconds,
        sentences=len(corpus),
        tokens=tokens,
        epochs=epochs,
    )


def train_models(
    tables: LearnerTables, config: FastTextConfig | None = None
) -> dict[str, TableModel]:
    """Every user table's model, as the three model assets train them."""
    return {
        table: train_table_model(
            table,
            tables.table(table),
            config,
            tables.course_tags if table == "user_course_views" else None,
        )
        for table in ITEM_COLUMNS
    }
