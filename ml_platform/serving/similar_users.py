"""Similar learners from the FastText user vectors (`similar_users_index` asset).

`POST /score` keeps the original service's JSON contract: a profile in, the most similar users
out, keyed by handle, most similar first —

    {"top_n": 2, "assessment": [["css", 90], ["python", 150]],
     "course_view": ["data-science-big-picture", "python-beyond-basics"],
     "user_interests": ["python", "data-analysis"]}
    → {"<user_handle>": {"similarity": 0.89, "assessment_tag": "…", "course_id": "…",
                         "interest_tag": "…"}, …}

Similarity mixes the users' FastText vectors with the items they share, IDF-weighted
(`similar_users/profiles.py`). Words the models never saw still count: a misspelling of a known word is read as that word and
anything else is composed from its character n-grams. `GET /users/{user_handle}/similar` answers
the same for a known user.
"""

from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from ml_platform.serving.models import LoadedModel, Product, cached_json, json_response
from ml_platform.similar_users.contract import INDEX_ASSET as ASSET
from ml_platform.similar_users.contract import MAX_SCORE, MIN_SCORE

MAX_TOP_N = 100
MAX_ITEMS = 500  # per list: more than any real profile, few enough to embed in microseconds
MAX_WORD_CHARS = 200


@runtime_checkable
class SimilarUsers(Protocol):
    """What the app needs of `similar_users.index.SimilarUsersIndex`; stated here so serving
    depends on the interface, not on the training code."""

    @property
    def users(self) -> int: ...
    def has_user(self, handle: str) -> bool: ...
    def user_vector(self, handle: str) -> Any: ...
    def embed(
        self,
        assessment: list[tuple[str, float]],
        course_view: list[str],
        user_interests: list[str],
    ) -> Any | None: ...
    def similar_json(self, query: Any, top_n: int, exclude: str | None = None) -> bytes: ...


Word = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_WORD_CHARS)
]
Score = Annotated[float, Field(ge=MIN_SCORE, le=MAX_SCORE, allow_inf_nan=False)]


class ScoreRequest(BaseModel):
    """A learner's profile, as the original service took it; at least one list non-empty."""

    model_config = ConfigDict(extra="forbid")

    top_n: int = Field(10, ge=1, le=MAX_TOP_N, description="how many similar users")
    assessment: list[tuple[Word, Score]] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description="[skill, score 0-300] pairs; a higher score weighs the skill more",
    )
    course_view: list[Word] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="course ids watched"
    )
    user_interests: list[Word] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="tags followed"
    )

    @model_validator(mode="after")
    def _something_to_compare(self) -> "ScoreRequest":
        if not (self.assessment or self.course_view or self.user_interests):
            raise ValueError("give at least one of assessment, course_view, user_interests")
        return self


class SimilarUser(BaseModel):
    similarity: float = Field(
        description="similarity of the profiles: FastText cosine mixed with IDF item overlap"
    )
    assessment_tag: str = Field(description="their best-scored assessments, comma-separated")
    course_id: str = Field(description="the courses they watched longest, comma-separated")
    interest_tag: str = Field(description="the tags they followed last, comma-separated")


def _index(loaded: LoadedModel) -> SimilarUsers:
    return loaded.value


def _query_vector(body: ScoreRequest, loaded: LoadedModel) -> Any | None:
    return _index(loaded).embed(
        [(tag, score) for tag, score in body.assessment], body.course_view, body.user_interests
    )


router = APIRouter(tags=["similar users"])

# `async def` and pre-serialized bytes, as in recommendations.py: the work is microseconds of
# numpy under the GIL, and building pydantic models per answer would cost more than it.


@router.post("/score", response_model=dict[str, SimilarUser])
async def score(request: Request, body: ScoreRequest) -> Response:
    """The `top_n` users most like this profile, most similar first, keyed by user handle."""
    loaded: LoadedModel = request.app.state.models.get(ASSET)
    vector = _query_vector(body, loaded)
    if vector is None:
        raise RequestValidationError(
            [
                {
                    "type": "nothing_to_embed",
                    "loc": ["body"],
                    "msg": "no word in assessment, course_view or user_interests shares a "
                    "character n-gram with what the models were trained on",
                    "input": None,
                }
            ]
        )
    return json_response(_index(loaded).similar_json(vector, body.top_n))


@router.get("/users/{user_handle}/similar", response_model=dict[str, SimilarUser])
async def similar_to_user(
    request: Request,
    user_handle: Annotated[
        str, Path(min_length=1, max_length=MAX_WORD_CHARS, description="a known user's handle")
    ],
    top_n: Annotated[int, Query(ge=1, le=MAX_TOP_N, description="how many similar users")] = 5,
) -> Response:
    """The `top_n` users most like a known user (never themselves), most similar first."""
    loaded: LoadedModel = request.app.state.models.get(ASSET)
    index = _index(loaded)
    if not index.has_user(user_handle):
        raise HTTPException(
            404,
            f"user {user_handle!r} is not in index {loaded.version}; "
            "POST /score with their profile instead",
        )
    content = index.similar_json(index.user_vector(user_handle), top_n, exclude=user_handle)
    # Depends only on the model version, user and top_n: answered from the cache from now on.
    return cached_json(request, loaded, content)


PRODUCT = Product(
    asset=ASSET,
    router=router,
    accepts=lambda value: isinstance(value, SimilarUsers),
    cached_get_prefix="/users/",
)
