"""The served index: neighbours by id, the top-k table, and search by name."""

import numpy as np
import pandas as pd
import pytest

from ml_platform.prod2vec.similarity import BOUGHT_WITH, COSINE, ProductIndex, top_neighbours


def product_vectors() -> pd.DataFrame:
    names = ["Creamy Peanut Butter", "Crunchy Peanut Butter", "Grape Jelly", "Banana",
             "Organic Banana", "Whole Milk"]  # fmt: skip
    vectors = np.array([[1, 0, 0], [0.95, 0.1, 0], [0.7, 0.3, 0], [0, 1, 0], [0, 0.95, 0.1],
                        [0, 0, 1]])  # fmt: skip
    return pd.DataFrame(
        {
            "product_id": np.arange(1, 7),
            "product_name": names,
            "aisle": ["spreads", "spreads", "spreads", "fresh fruits", "fresh fruits", "milk"],
            "department": ["pantry"] * 3 + ["produce"] * 2 + ["dairy eggs"],
            "purchases": [50, 20, 30, 500, 300, 200],
            **{f"v_{i}": vectors[:, i] for i in range(3)},
        }
    )


@pytest.fixture
def index() -> ProductIndex:
    return ProductIndex(product_vectors())


def test_similar_products_come_best_first_with_names_and_never_the_product_itself(index):
    found = index.similar(1, k=3)

    assert [p["product_id"] for p in found] == [2, 3, 4]
    assert found[0]["product_name"] == "Crunchy Peanut Butter"
    assert found[0]["similarity"] > found[1]["similarity"] > found[2]["similarity"]


def test_the_table_holds_k_neighbours_per_product_in_rank_order(index):
    table = index.similar_table(k=2)

    assert len(table) == 12
    assert table.groupby("product_id")["rank"].apply(list).eq([[1, 2]] * 6).all()
    assert not (table["product_id"] == table["neighbour_id"]).any()
    first = table[(table["product_id"] == 4) & (table["rank"] == 1)].iloc[0]
    assert (first["neighbour_name"], first["neighbour_aisle"]) == ("Organic Banana", "fresh fruits")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("peanut butter", [1, 2]),  # both names hold the words; the more bought first
        ("PEANUT  butter!", [1, 2]),
        ("banana", [4, 5]),
        ("pean crunch", [2]),  # word starts
        ("jelly beans", []),
        ("   ", []),
    ],
)
def test_names_are_found_by_their_words(index, query, expected):
    assert index.find(query) == expected


def test_precomputed_neighbours_are_served_instead_of_cosine_ones_and_named():
    ids = np.arange(1, 7)

    # a score that ranks the products by id from the highest, the query itself never
    def scores(rows: np.ndarray) -> np.ndarray:
        block = np.tile(ids.astype(float), (len(rows), 1))
        block[np.arange(len(rows)), rows] = -np.inf
        return block

    neighbours = top_neighbours(BOUGHT_WITH, ids, scores, k=3)
    index = ProductIndex(product_vectors(), neighbours)

    assert index.method == BOUGHT_WITH and ProductIndex(product_vectors()).method == COSINE
    assert neighbours.ids.tolist()[0] == [6, 5, 4] and neighbours.ids.tolist()[5] == [5, 4, 3]
    assert [p["product_id"] for p in index.similar(6, k=2)] == [5, 4]
    assert index.similar(1, k=1)[0]["similarity"] == 6.0
    table = index.similar_table(3)
    assert table.loc[table["product_id"] == 2, "neighbour_id"].tolist() == [6, 5, 4]
