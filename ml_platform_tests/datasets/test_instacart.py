"""Instacart loaders (both layouts, errors that name the row) and the generator's structure."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.datasets.instacart import (
    STAPLES,
    generate_instacart,
    load_instacart,
    load_joined,
    load_order_products,
    load_orders,
    load_products,
    write_instacart,
)


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


@pytest.mark.parametrize("layout", ["files", "joined"])
def test_written_data_loads_back_unchanged_in_either_layout(tmp_path, layout):
    dataset = generate_instacart(1_500, 400, seed=3)

    write_instacart(tmp_path, dataset, layout=layout)
    loaded = load_instacart(tmp_path)

    shopped = dataset.orders["order_id"].isin(dataset.order_products["order_id"])
    expected_orders = dataset.orders if layout == "files" else dataset.orders[shopped]
    pd.testing.assert_frame_equal(loaded.orders, expected_orders.reset_index(drop=True))
    key = ["order_id", "add_to_cart_order"]
    pd.testing.assert_frame_equal(
        loaded.order_products.sort_values(key, ignore_index=True),
        dataset.order_products.sort_values(key, ignore_index=True),
    )
    bought = dataset.products["product_id"].isin(dataset.order_products["product_id"])
    expected_products = dataset.products if layout == "files" else dataset.products[bought]
    pd.testing.assert_frame_equal(
        loaded.products.sort_values("product_id", ignore_index=True),
        expected_products.sort_values("product_id", ignore_index=True),
    )


def test_a_joined_file_with_only_the_required_columns_gets_reorders_computed(tmp_path):
    path = tmp_path / "sample.csv"
    path.write_text(
        "order_id,user_id,order_number,product_id\n"
        "1,7,1,100\n1,7,1,200\n2,7,2,100\n2,7,2,300\n3,8,1,100\n"
    )

    loaded = load_joined(path)

    assert loaded.orders["eval_set"].tolist() == ["prior"] * 3
    assert loaded.order_products["reordered"].tolist() == [0, 0, 1, 0, 0]
    assert loaded.order_products["add_to_cart_order"].tolist() == [1, 2, 1, 2, 1]
    assert loaded.products.empty


def test_a_first_order_has_no_days_since_prior_and_names_in_quotes_keep_commas(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,"
        "days_since_prior_order\n1,1,prior,1,2,8,\n2,1,train,2,3,7,15.0\n"
    )
    (tmp_path / "products.csv").write_text(
        'product_id,product_name,aisle_id,department_id\n1,"Peanut Butter, Creamy",88,13\n'
    )

    orders = load_orders(tmp_path / "orders.csv")
    products = load_products(tmp_path / "products.csv")

    assert orders["days_since_prior_order"].isna().tolist() == [True, False]
    assert orders["days_since_prior_order"].iloc[1] == 15.0
    assert products["product_name"].tolist() == ["Peanut Butter, Creamy"]
    assert products["aisle"].tolist() == [""]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("order_id,product_id,add_to_cart_order,reordered\n1,5,1,0\n1,x7,2,0\n",
         "line 3: column 'product_id' is 'x7', expected an integer"),
        ("order_id,product_id,add_to_cart_order,reordered\n1,5,1,0\n1,6,2,2\n",
         "line 3: column 'reordered' is 2, expected 0 or 1"),
        ("order_id,product_id,add_to_cart_order,reordered\n1,5,1,0\n1,5,2,1\n",
         "line 3: order 1 lists the same product twice"),
        ("order_id,product_id,reordered\n1,5,0\n", "column(s) ['add_to_cart_order'] are missing"),
        ("order_id,product_id,add_to_cart_order,reordered\n", "has no rows"),
    ],
)  # fmt: skip
def test_bad_order_products_are_refused_naming_file_line_and_column(tmp_path, content, message):
    path = tmp_path / "order_products__prior.csv"
    path.write_text(content)

    with pytest.raises(InvalidInputError) as error:
        load_order_products(path)

    assert str(path) in str(error.value) and message in str(error.value)


def test_bad_orders_are_refused_naming_the_line(tmp_path):
    path = tmp_path / "orders.csv"
    header = "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,"
    header += "days_since_prior_order\n"
    path.write_text(header + "1,1,prior,1,2,8,\n2,1,later,2,3,7,15.0\n")

    with pytest.raises(InvalidInputError, match="line 3: column 'eval_set' is 'later'"):
        load_orders(path)


def test_baskets_naming_unknown_products_or_orders_are_refused(tmp_path):
    dataset = generate_instacart(300, 200, seed=5)
    write_instacart(tmp_path, dataset)
    products = pd.read_csv(tmp_path / "products.csv")
    products.iloc[1:].to_csv(tmp_path / "products.csv", index=False)  # drop product 1
    bought_first = int(np.any(dataset.order_products["product_id"] == 1))

    with pytest.raises(InvalidInputError, match="missing from products") as error:
        load_instacart(tmp_path)
    assert bought_first and "e.g. [1]" in str(error.value)
