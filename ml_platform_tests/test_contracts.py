"""The assets serving loads are the ones the products publish in their contracts: each named
asset exists in its product's Definitions and is stored by the object-store IO manager (so it
lands as `<asset>.<format extension>`, where serving looks), and serving serves exactly those."""

import dagster as dg
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.prod2vec import contract as prod2vec_contract
from ml_platform.prod2vec import definitions as prod2vec
from ml_platform.recommender import contract as recommender_contract
from ml_platform.recommender import definitions as recommender
from ml_platform.serving.app import PRODUCTS
from ml_platform.similar_users import contract as similar_users_contract
from ml_platform.similar_users import definitions as similar_users
from ml_platform.similar_users import learners
from ml_platform.tweets import contract as tweets_contract
from ml_platform.tweets import definitions as tweets

SERVED = [
    (recommender.defs, recommender_contract.MODEL_ASSET),
    (prod2vec.defs, prod2vec_contract.INDEX_ASSET),
    (similar_users.defs, similar_users_contract.INDEX_ASSET),
    (tweets.defs, tweets_contract.MODEL_ASSET),
]


@pytest.mark.parametrize(("defs", "asset"), SERVED, ids=[asset for _, asset in SERVED])
def test_a_served_asset_is_the_products_and_lands_in_the_object_store(defs, asset):
    key = dg.AssetKey(asset)
    owners = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and key in a.keys]
    assert len(owners) == 1, f"no asset {asset} in the product's Definitions"
    assert owners[0].get_io_manager_key_for_asset_key(key) == "io_manager"


def test_serving_serves_the_contracts_assets_and_no_others():
    assert sorted(product.asset for product in PRODUCTS) == sorted(asset for _, asset in SERVED)


@pytest.mark.parametrize(
    ("score", "accepted"),
    [
        (similar_users_contract.MIN_SCORE, True),
        (similar_users_contract.MAX_SCORE, True),
        (similar_users_contract.MAX_SCORE + 0.5, False),
        (similar_users_contract.MIN_SCORE - 0.5, False),
    ],
)
def test_the_published_score_scale_is_the_one_the_learner_loader_enforces(
    tmp_path, score, accepted
):
    path = tmp_path / "user_assessment_scores.csv"
    path.write_text(
        "user_handle,assessment_tag,user_assessment_date,user_assessment_score\n"
        f"1,python,2018-01-01T00:00:00Z,{score}\n"
    )
    if accepted:
        assert learners.load_user_assessment_scores(path)["user_assessment_score"].tolist() == [
            score
        ]
    else:
        with pytest.raises(InvalidInputError, match="expected a score from 0 to 300"):
            learners.load_user_assessment_scores(path)
