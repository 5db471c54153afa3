"""The Instacart generator's structure: basket sizes, re-orders, staples, complements."""

import pandas as pd
import pytest

from ml_platform.demo_data.instacart import STAPLES, generate_instacart


@pytest.fixture(scope="module")
def dataset():
    return generate_instacart(n_orders=20_000, n_products=2_000, seed=11)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    first = generate_instacart(1_000, 300, seed=1)
    again = generate_instacart(1_000, 300, seed=1)
    other = generate_instacart(1_000, 300, seed=2)

    pd.testing.assert_frame_equal(first.order_products, again.order_products)
    assert not first.order_products.equals(other.order_products)


def test_generated_baskets_have_instacarts_sizes_reorders_and_eval_sets(dataset):
    orders, lines = dataset.orders, dataset.order_products
    sizes = lines.groupby("order_id").size()

    assert (orders["eval_set"] != "test").sum() == 20_000
    assert sizes.mean() == pytest.approx(10.1, rel=0.2)  # Instacart: mean 10.1, median 8
    assert 6 <= sizes.median() <= 10 and sizes.max() > 50
    assert lines["reordered"].mean() == pytest.approx(0.59, abs=0.08)
    # test orders come without products, as in the public data; one per user at most
    test_orders = orders.loc[orders["eval_set"] == "test", "order_id"]
    assert len(test_orders) and not lines["order_id"].isin(test_orders).any()
    assert orders.loc[orders["eval_set"] == "test", "user_id"].is_unique
    assert orders.loc[orders["order_number"] == 1, "days_since_prior_order"].isna().all()
    # `reordered` means: this user bought it in an earlier order
    merged = lines.merge(orders, on="order_id").sort_values(["user_id", "order_number"])
    first_time = ~merged.duplicated(["user_id", "product_id"])
    assert (merged["reordered"] == (~first_time).astype(int)).all()


def test_generated_catalogue_has_staples_a_long_tail_and_produce_first(dataset):
    lines = dataset.order_products.merge(dataset.products, on="product_id")
    orders_with = lines.groupby("product_name")["order_id"].nunique().sort_values(ascending=False)
    n_orders = dataset.order_products["order_id"].nunique()

    assert orders_with.index[0] in STAPLES
    assert 0.08 < orders_with.iloc[0] / n_orders < 0.3  # Instacart: bananas in ~15% of orders
    bought = dataset.order_products["product_id"].value_counts()
    assert bought.head(len(bought) // 10).sum() > 0.45 * bought.sum()  # a few sell most
    assert (bought < 10).mean() > 0.1  # and a long tail sells rarely
    departments = lines["department"].value_counts(normalize=True)
    assert departments.index[0] == "produce" and departments.iloc[0] > 0.2
    assert dataset.products["aisle_id"].nunique() > 50


def test_generated_complements_are_bought_together_far_more_than_chance(dataset):
    # pasta sauce is in the basket of a pasta buyer far more often than in the average basket
    lines = dataset.order_products.merge(dataset.products, on="product_id")
    aisles_per_order = lines.groupby("order_id")["aisle"].agg(set)
    with_pasta = aisles_per_order[aisles_per_order.map(lambda a: "dry pasta" in a)]
    sauce_given_pasta = with_pasta.map(lambda a: "pasta sauce" in a).mean()
    sauce = aisles_per_order.map(lambda a: "pasta sauce" in a).mean()
    assert sauce_given_pasta > 3 * sauce
