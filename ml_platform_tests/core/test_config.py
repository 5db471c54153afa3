import pickle
from dataclasses import dataclass

import dagster as dg
import pydantic
import pytest

from ml_platform.core.config import ConfigModel, with_epochs_capped
from ml_platform.prod2vec.pairs import PairConfig
from ml_platform.prod2vec.resources import Prod2VecSettings
from ml_platform.similar_users.fasttext_models import FastTextConfig
from ml_platform.similar_users.resources import SimilarUsersSettings
from ml_platform.similar_users.user_vectors import EmbeddingConfig
from ml_platform.tweets.resources import TweetsSettings


class Sizes(ConfigModel):
    width: int = 3

    @pydantic.model_validator(mode="after")
    def _positive(self):
        if self.width < 1:
            raise ValueError(f"width is {self.width}, expected ≥ 1")
        return self


class Settings(dg.ConfigurableResource, Sizes):
    data_dir: str | None = None


def _config_keys(resource: type[dg.ConfigurableResource]) -> dict[str, object]:
    fields = resource.to_config_schema().as_field().config_type.fields
    return {
        name: field.default_value if field.default_provided else None
        for name, field in fields.items()
    }


def test_a_resource_inheriting_a_config_model_has_its_fields_as_config_keys():
    assert _config_keys(Settings) == {"width": 3, "data_dir": None}


def test_the_logic_gets_its_part_of_the_settings_set_from_run_config():
    @dg.asset
    def width(settings: Settings) -> int:
        part = Sizes.of(settings)
        assert type(part) is Sizes
        return part.width

    result = dg.materialize(
        [width],
        resources={"settings": Settings()},
        run_config={"resources": {"settings": {"config": {"width": 9}}}},
    )

    assert result.output_for_node("width") == 9


def test_the_part_pickles_without_the_resource():
    part = Sizes.of(Settings(width=4, data_dir="/data"))

    assert pickle.loads(pickle.dumps(part)) == Sizes(width=4)


def test_the_resource_refuses_what_the_logic_refuses_and_unknown_names():
    with pytest.raises(ValueError, match="width is 0"):
        Settings(width=0)
    with pytest.raises(pydantic.ValidationError):
        Settings(widht=2)


class _StoredAsDataclass:
    """Pickles as a config did while it was a frozen dataclass: the class, then its bare fields."""

    def __init__(self, cls: type, fields: dict[str, object]) -> None:
        self.cls, self.fields = cls, fields

    def __reduce_ex__(self, protocol):
        # the dataclass's reduction was (copyreg.__newobj__, (cls,), fields); pickle only
        # lets an instance of `cls` write that, so create the instance the same way by hand
        return object.__new__, (self.cls,), self.fields


def test_a_model_stored_while_its_config_was_a_dataclass_loads_with_its_settings():
    old_pairs = pickle.dumps(_StoredAsDataclass(PairConfig, {"window": None, "negatives": 2}))
    old_embedding = pickle.dumps(
        _StoredAsDataclass(
            EmbeddingConfig,
            {
                "table_weights": {
                    "user_assessment_scores": 0.25,
                    "user_course_views": 1.0,
                    "user_interests": 2.0,
                },
                "dense_weight": 0.3,
            },
        )
    )

    assert pickle.loads(old_pairs) == PairConfig(window=None, negatives=2)
    assert pickle.loads(old_embedding) == EmbeddingConfig(
        assessment_weight=0.25, interest_weight=2.0, dense_weight=0.3
    )
    with pytest.raises(ValueError, match="negatives is 0"):
        pickle.loads(pickle.dumps(_StoredAsDataclass(PairConfig, {"negatives": 0})))


# The config keys and defaults each product's resource had when it still copied its logic's
# settings field by field: a deployment's config written then must mean the same now.
SIMILAR_USERS_KEYS = {
    "data_dir": None,
    "from_landing_tables": False,
    "generated_users": 2_000,
    "generated_seed": 42,
    "vector_size": 48,
    "epochs": 5,
    "window": 10,
    "min_n": 3,
    "max_n": 4,
    "workers": 2,
    "min_tokens_seen": 1_500_000,
    "seed": 42,
    "assessment_weight": 0.5,
    "course_view_weight": 1.0,
    "interest_weight": 1.0,
    "smoothing": 1e-3,
    "dense_weight": 0.1,
    "profile_exponent": 0.4,
    "index_dimensions": 24,
    "display_items": 10,
    "leave_out_users": 1_000,
    "evaluation_seed": 0,
    "gate_min_users": 500,
}
PROD2VEC_KEYS = {
    "instacart_dir": None,
    "generated_seed": 42,
    "generated_orders": 30_000,
    "generated_products": 3_000,
    "window": 5,
    "shuffle": True,
    "subsample": 1e-3,
    "negatives": 4,
    "negative_power": 0.75,
    "seed": 42,
    "min_pairs": 100_000,
    "compare_gensim": False,
}
TWEETS_KEYS = {
    "prefix": "",
    "version": 0,
    "landing_uri": None,
    "landing_endpoint_url": None,
    "kafka_bootstrap_servers": None,
    "kafka_topic": "tweets",
    "kafka_group_id": "ml-platform-tweets",
    "generated_tweets": 20_000,
    "generated_seed": 42,
    "micro_batch_tweets": 10_000,
    "max_tweets_per_run": 200_000,
    "test_size": 1000,
    "dev_size": 500,
    "snorkel_train_size": 10_000,
    "split_seed": 42,
    "golden_labels_csv": None,
    "simulate_golden_labels": True,
    "retrain_after_labels": 100,
    "seed": 42,
    "max_epochs": None,
}


@pytest.mark.parametrize(
    ("resource", "keys"),
    [
        (SimilarUsersSettings, SIMILAR_USERS_KEYS),
        (Prod2VecSettings, PROD2VEC_KEYS),
        (TweetsSettings, TWEETS_KEYS),
    ],
)
def test_product_settings_keep_their_config_keys_and_defaults(resource, keys):
    current = _config_keys(resource)

    assert {name: current.get(name, "missing") for name in keys} == keys


def test_product_settings_reach_the_logic_unchanged():
    similar_users = SimilarUsersSettings(vector_size=16, interest_weight=2.0, data_dir="/data")
    prod2vec = Prod2VecSettings(window=None, negatives=2, min_pairs=10)

    assert similar_users.fasttext_config() == FastTextConfig(vector_size=16)
    assert similar_users.embedding_config().table_weights["user_interests"] == 2.0
    assert similar_users.embedding_config() == EmbeddingConfig(interest_weight=2.0)
    assert prod2vec.pair_config() == PairConfig(window=None, negatives=2)
    assert TweetsSettings(dev_size=7).split_sizes().capacity("dev") == 7


@dataclass(frozen=True)
class Training:
    epochs: int = 40
    learning_rate: float = 0.1


def test_max_epochs_only_ever_shortens_a_training():
    assert with_epochs_capped(Training(), None) == Training()
    assert with_epochs_capped(Training(), 3) == Training(epochs=3)
    assert with_epochs_capped(Training(epochs=2), 3) == Training(epochs=2)
