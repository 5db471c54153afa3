"""Similar products from the prod2vec model (`prod2vec_index` asset), by id or by name.

`GET /products/{product_id}/similar?k=10` and `GET /products/similar?name=peanut butter` (the
most bought product whose name holds those words, and its similar products). The index serves
the method that scored best on held-out baskets; `method` in the answer says which.
"""

from typing import Annotated, Protocol, runtime_checkable

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from ml_platform.prod2vec.contract import INDEX_ASSET as ASSET
from ml_platform.serving.models import LoadedModel, Product, cached_json, encode_json

MAX_K = 100
MAX_NAME_CHARS = 200
OTHER_MATCHES = 5
# Ids are positive and fit 32 bits (as in Instacart), so no id reaches numpy as an overflow.
MAX_ID = 2**31 - 1


@runtime_checkable
class SimilarProductIndex(Protocol):
    """What the app needs of `prod2vec.similarity.ProductIndex`; stated here so serving depends
    on the interface, not on the training code. Products are dicts with `product_id`,
    `product_name`, `aisle`, `department` (+ `similarity` for neighbours)."""

    def has_product(self, product_id: int) -> bool: ...
    def product(self, product_id: int) -> dict: ...
    def similar(self, product_id: int, k: int) -> list[dict]: ...
    def find(self, name: str) -> list[int]: ...


def _method(index: SimilarProductIndex) -> str:
    """The served method; an index stored before it had one is cosine neighbours."""
    return str(getattr(index, "method", "cosine"))


class ProductInfo(BaseModel):
    product_id: int
    product_name: str
    aisle: str
    department: str


class SimilarProduct(ProductInfo):
    similarity: float = Field(
        description="score under `method`: cosine similarity of the product vectors, or "
        "P(bought in the same basket)"
    )


class SimilarProductsResponse(BaseModel):
    model_version: str = Field(description="modification time of the stored index served")
    method: str = Field(
        description="how `similar` was ranked: 'bought_with' (basket evidence blended with "
        "the product vectors) or 'cosine' (nearest product vectors), whichever scored better "
        "on held-out baskets"
    )
    product: ProductInfo
    similar: list[SimilarProduct]


class NameSearchResponse(SimilarProductsResponse):
    query: str
    other_matches: list[ProductInfo] = Field(
        description=f"up to {OTHER_MATCHES} more products whose names match, most bought first"
    )


def _loaded_index(request: Request) -> LoadedModel:
    return request.app.state.models.get(ASSET)


router = APIRouter(prefix="/products", tags=["products"])

# As in recommendations.py: `async def` (sub-millisecond numpy), answers returned as bytes and
# cached per index version, so a repeated GET is answered by the app's `CachedGets`.


@router.get("/similar", response_model=NameSearchResponse)
async def similar_by_name(
    request: Request,
    name: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_NAME_CHARS,
            description="words of a product name, e.g. 'peanut butter'",
        ),
    ],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many similar products")] = 10,
) -> Response:
    """The most bought product whose name holds every word of `name`, and its similar products."""
    loaded = _loaded_index(request)
    index: SimilarProductIndex = loaded.value
    found = index.find(name)
    if not found:
        raise HTTPException(404, f"no product name holds the words of '{name}'")
    best = found[0]
    content = encode_json(
        {
            "query": name,
            "model_version": loaded.version,
            "method": _method(index),
            "product": index.product(best),
            "other_matches": [index.product(i) for i in found[1 : 1 + OTHER_MATCHES]],
            "similar": index.similar(best, k),
        }
    )
    return cached_json(request, loaded, content)


@router.get("/{product_id}/similar", response_model=SimilarProductsResponse)
async def similar_by_id(
    request: Request,
    product_id: Annotated[int, Path(ge=1, le=MAX_ID, description="a product of the index")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many similar products")] = 10,
) -> Response:
    """The `k` products most similar to this one under the served method, best first."""
    loaded = _loaded_index(request)
    index: SimilarProductIndex = loaded.value
    if not index.has_product(product_id):
        raise HTTPException(
            404, f"product {product_id} is not in index {loaded.version} (never bought in training)"
        )
    content = encode_json(
        {
            "model_version": loaded.version,
            "method": _method(index),
            "product": index.product(product_id),
            "similar": index.similar(product_id, k),
        }
    )
    return cached_json(request, loaded, content)


PRODUCT = Product(
    asset=ASSET,
    router=router,
    accepts=lambda value: isinstance(value, SimilarProductIndex),
    cached_get_prefix="/products/",
)
