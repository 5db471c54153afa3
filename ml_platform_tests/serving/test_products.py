"""Similar products over HTTP: by id and by name, and the 4xx a caller gets for bad input."""

import time
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.prod2vec.similarity import Neighbours, ProductIndex
from ml_platform.serving import ServingSettings, create_app
from ml_platform.serving.products import ASSET, NameSearchResponse, SimilarProductsResponse


def product_vectors() -> pd.DataFrame:
    """Spreads close together, fruit close together, milk apart."""
    names = ["Creamy Peanut Butter", "Crunchy Peanut Butter", "Grape Jelly", "Banana",
             "Organic Banana", "Whole Milk"]  # fmt: skip
    vectors = np.array([[1, 0, 0], [0.95, 0.1, 0], [0.7, 0.3, 0], [0, 1, 0], [0, 0.95, 0.1],
                        [0, 0, 1]])  # fmt: skip
    return pd.DataFrame(
        {
            "product_id": [11, 12, 13, 24, 25, 36],
            "product_name": names,
            "aisle": ["spreads", "spreads", "spreads", "fresh fruits", "fresh fruits", "milk"],
            "department": ["pantry"] * 3 + ["produce"] * 2 + ["dairy eggs"],
            "purchases": [50, 20, 30, 500, 300, 200],
            **{f"v_{i}": vectors[:, i] for i in range(3)},
        }
    )


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    store = ObjectStore(base_uri=str(tmp_path / "storage"))

    @dg.asset(name=ASSET)
    def prod2vec_index() -> ProductIndex:
        return ProductIndex(product_vectors())

    dg.materialize([prod2vec_index], resources={"io_manager": ObjectStoreIOManager(store=store)})
    app = create_app(ServingSettings(object_store=store, reload_interval_seconds=0.05))
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while app.state.models.loaded(ASSET) is None:
            assert time.monotonic() < deadline, "index not loaded within 10 s"
            time.sleep(0.02)
        yield client


def test_similar_products_of_a_product_come_best_first_with_names(client):
    response = client.get("/products/11/similar", params={"k": 3})

    assert response.status_code == 200
    body = SimilarProductsResponse.model_validate(response.json())
    assert body.product.product_name == "Creamy Peanut Butter"
    assert [p.product_id for p in body.similar] == [12, 13, 24]
    assert body.similar[0].aisle == "spreads"
    assert body.similar[0].similarity > body.similar[1].similarity
    assert body.method == "cosine"


def test_an_index_of_bought_with_neighbours_serves_them_and_says_so(tmp_path):
    store = ObjectStore(base_uri=str(tmp_path / "storage"))
    ids = np.array([11, 12, 13, 24, 25, 36])
    # milk is what every product is bought with, then the others in id order
    served = Neighbours(
        method="bought_with",
        product_ids=ids,
        ids=np.array(
            [[36, *[j for j in ids if j not in (i, 36)][:4]] if i != 36 else ids[:5] for i in ids]
        ),
        scores=np.tile(np.linspace(0.5, 0.1, 5), (6, 1)),
    )

    @dg.asset(name=ASSET)
    def prod2vec_index() -> ProductIndex:
        return ProductIndex(product_vectors(), served)

    dg.materialize([prod2vec_index], resources={"io_manager": ObjectStoreIOManager(store=store)})
    app = create_app(ServingSettings(object_store=store, reload_interval_seconds=0.05))
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while app.state.models.loaded(ASSET) is None:
            assert time.monotonic() < deadline, "index not loaded within 10 s"
            time.sleep(0.02)
        by_id = client.get("/products/11/similar", params={"k": 2}).json()
        by_name = client.get("/products/similar", params={"name": "banana", "k": 1}).json()

    assert by_id["method"] == by_name["method"] == "bought_with"
    assert [p["product_name"] for p in by_id["similar"]] == ["Whole Milk", "Crunchy Peanut Butter"]
    assert by_id["similar"][0]["similarity"] == 0.5
    assert [p["product_id"] for p in by_name["similar"]] == [36]


def test_k_defaults_to_ten_and_a_repeat_gets_the_same_answer(client):
    first = client.get("/products/24/similar")
    again = client.get("/products/24/similar")

    assert len(first.json()["similar"]) == 5  # every other product: fewer than 10 exist
    assert first.json()["similar"][0]["product_name"] == "Organic Banana"
    assert again.content == first.content


def test_a_name_finds_the_most_bought_match_and_its_similar_products(client):
    response = client.get("/products/similar", params={"name": "peanut butter", "k": 2})

    assert response.status_code == 200
    body = NameSearchResponse.model_validate(response.json())
    assert body.query == "peanut butter"
    assert body.product.product_id == 11
    assert [p.product_id for p in body.other_matches] == [12]
    assert [p.product_id for p in body.similar] == [12, 13]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/products/99/similar", {}, 404, "product 99 is not in index"),
        ("/products/11/similar", {"k": 0}, 422, "k"),
        ("/products/11/similar", {"k": 101}, 422, "k"),
        ("/products/11/similar", {"k": "ten"}, 422, "k"),
        ("/products/0/similar", {}, 422, "product_id"),
        ("/products/abc/similar", {}, 422, "product_id"),
        ("/products/99999999999999999999/similar", {}, 422, "product_id"),
        ("/products/similar", {"name": "caviar"}, 404, "no product name holds"),
        ("/products/similar", {"name": ""}, 422, "name"),
        ("/products/similar", {}, 422, "name"),
        ("/products/similar", {"name": "x" * 201}, 422, "name"),
        ("/products/similar", {"name": "banana", "k": -1}, 422, "k"),
    ],
)
def test_bad_requests_get_a_4xx_that_says_what_is_wrong(client, path, params, status, says):
    response = client.get(path, params=params)

    assert response.status_code == status
    assert says in response.text
