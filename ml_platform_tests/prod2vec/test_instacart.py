"""Instacart loaders: both layouts, a write read back unchanged, errors that name the row."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.demo_data.instacart import generate_instacart
from ml_platform.prod2vec.instacart import (
    load_instacart,
    load_joined,
    load_order_products,
    load_orders,
    load_products,
    write_instacart,
)


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
