"""Movie recommendations from the two-stage recommender (`recommender_model` asset).

Known users get recommendations from their training history; anyone else sends the ratings they
have given and gets recommendations for those (cold start without retraining).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Annotated, NotRequired, Protocol, runtime_checkable

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from ml_platform.recommender.contract import MODEL_ASSET as ASSET
from ml_platform.serving.models import (
    LoadedModel,
    Product,
    cached_json,
    encode_json,
    json_response,
)

MAX_K = 100
MAX_RATINGS = 200
# Ids are positive and fit 32 bits (as in MovieLens), so no id reaches numpy as an overflow.
MAX_ID = 2**31 - 1


class Recommendation(Protocol):
    """One recommended movie as the recommender returns it."""

    @property
    def movie_id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def predicted_rating(self) -> float: ...
    @property
    def retrieval_score(self) -> float: ...


@runtime_checkable
class Recommender(Protocol):
    """What the app needs of `recommender.two_stage.TwoStageRecommender`; stated here so serving
    depends on the interface, not on the training code."""

    def recommend(self, user_id: int, k: int) -> Sequence[Recommendation]: ...
    def recommend_for_ratings(
        self, ratings: Mapping[int, float], k: int
    ) -> Sequence[Recommendation]: ...
    def has_user(self, user_id: int) -> bool: ...
    def has_movie(self, movie_id: int) -> bool: ...


def _one_rating_per_movie(ratings: list["Rating"]) -> list["Rating"]:
    if len({r["movie_id"] for r in ratings}) == len(ratings):  # every request pays this check
        return ratings
    counts = Counter(r["movie_id"] for r in ratings)
    repeated = sorted(movie_id for movie_id, count in counts.items() if count > 1)
    raise ValueError(f"movie ids rated more than once: {repeated}")


# TypedDicts rather than models: validated into plain dicts, twice as fast as building 20
# `BaseModel` instances per request, with the same constraints, errors and OpenAPI schema.
class Rating(TypedDict):
    movie_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    rating: Annotated[float, Field(ge=0.5, le=5.0, allow_inf_nan=False)]


class RatingsRequest(TypedDict):
    """Ratings a person has given, to recommend for someone the model was not trained on."""

    ratings: Annotated[
        list[Rating],
        Field(min_length=1, max_length=MAX_RATINGS),
        AfterValidator(_one_rating_per_movie),
    ]
    k: NotRequired[Annotated[int, Field(10, ge=1, le=MAX_K)]]  # validation fills in 10


class RecommendedMovie(BaseModel):
    movie_id: int
    title: str
    predicted_rating: float
    retrieval_score: float


class RecommendationsResponse(BaseModel):
    user_id: int | None = Field(description="null for recommendations from posted ratings")
    model_version: str = Field(description="modification time of the stored model served")
    recommendations: list[RecommendedMovie]


def _loaded_recommender(request: Request) -> LoadedModel:
    return request.app.state.models.get(ASSET)


def _response_bytes(
    user_id: int | None, loaded: LoadedModel, found: Sequence[Recommendation]
) -> bytes:
    """The JSON of a `RecommendationsResponse`, written directly: building and re-validating the
    pydantic models per request cost more than the model's scoring. `test_app.py` checks the
    shape against `RecommendationsResponse`."""
    return encode_json(
        {
            "user_id": user_id,
            "model_version": loaded.version,
            "recommendations": [
                {
                    "movie_id": r.movie_id,
                    "title": r.title,
                    "predicted_rating": r.predicted_rating,
                    "retrieval_score": r.retrieval_score,
                }
                for r in found
            ],
        }
    )


router = APIRouter(prefix="/recommendations", tags=["recommendations"])

# `async def` on purpose: scoring is sub-millisecond numpy, and a hop to the threadpool (what a
# plain `def` gets) costs more than it saves while the GIL serialises the work anyway.
# The routes return the response's bytes: `response_model` then only documents the shape (FastAPI
# skips validating a returned `Response`), which saves re-validating what we just built.


@router.get("/{user_id}", response_model=RecommendationsResponse)
async def recommend_for_user(
    request: Request,
    user_id: Annotated[int, Path(ge=1, le=MAX_ID, description="a user the model was trained on")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="how many movies")] = 10,
) -> Response:
    """Top-k movies for a known user, best first."""
    loaded = _loaded_recommender(request)
    model: Recommender = loaded.value
    unknown = HTTPException(
        404,
        f"user {user_id} is not in model {loaded.version}; "
        "POST /recommendations with their ratings instead",
    )
    if not model.has_user(user_id):
        raise unknown
    try:
        found = model.recommend(user_id, k)
    except KeyError:
        raise unknown from None
    # A known user's answer depends only on the model version, user and k: answered from the
    # cache from now on.
    return cached_json(request, loaded, _response_bytes(user_id, loaded, found))


def _unknown_movies(body: RatingsRequest, loaded: LoadedModel) -> list[dict]:
    """422 error entries for the rated movies the served model does not know."""
    model: Recommender = loaded.value
    return [
        {
            "type": "unknown_movie",
            "loc": ["body", "ratings", i, "movie_id"],
            "msg": f"movie {r['movie_id']} is not in model {loaded.version}",
            "input": r["movie_id"],
        }
        for i, r in enumerate(body["ratings"])
        if not model.has_movie(r["movie_id"])
    ]


@router.post("", response_model=RecommendationsResponse)
async def recommend_for_ratings(request: Request, body: RatingsRequest) -> Response:
    """Top-k movies for whoever gave these ratings, excluding the movies rated."""
    loaded = _loaded_recommender(request)
    unknown = _unknown_movies(body, loaded)
    if unknown:
        raise RequestValidationError(unknown)
    model: Recommender = loaded.value
    ratings = {r["movie_id"]: r["rating"] for r in body["ratings"]}
    found = model.recommend_for_ratings(ratings, body["k"])
    return json_response(_response_bytes(None, loaded, found))


PRODUCT = Product(
    asset=ASSET,
    router=router,
    accepts=lambda value: isinstance(value, Recommender),
    cached_get_prefix="/recommendations/",
)
