"""A small generated population and everything trained on it, built once per test session and
shared by the product's tests and the serving tests (and, at the embedded defaults' size and
seed, by the README's examples)."""

import functools
from dataclasses import dataclass

from ml_platform.demo_data.learners import GeneratedLearners, generate_learners
from ml_platform.similar_users.display import user_display
from ml_platform.similar_users.fasttext_models import FastTextConfig, TableModel, train_models
from ml_platform.similar_users.index import SimilarUsersIndex
from ml_platform.similar_users.user_vectors import UserEmbeddings, embed_users

USERS = 600
SEED = 11
# Fewer updates than the default (which suits any size): enough for 600 users, in seconds.
FASTTEXT = FastTextConfig(min_tokens_seen=300_000)


@dataclass(frozen=True)
class Trained:
    data: GeneratedLearners
    models: dict[str, TableModel]
    embeddings: UserEmbeddings
    index: SimilarUsersIndex


@functools.cache
def trained(users: int = USERS, seed: int = SEED, fasttext: FastTextConfig = FASTTEXT) -> Trained:
    data = generate_learners(users, seed=seed)
    models = train_models(data.tables, fasttext)
    embeddings = embed_users(data.tables, models)
    index = SimilarUsersIndex(embeddings, user_display(data.tables, embeddings.handles))
    return Trained(data, models, embeddings, index)
