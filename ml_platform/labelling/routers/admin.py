"""Admins only: who labels which queue, and each queue's labels per item and random share."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ml_platform.labelling.store import QueueSettings
from ml_platform.labelling.web import Admin, Context

router = APIRouter()


class AssignmentIn(BaseModel):
    annotator: str = Field(min_length=1, max_length=64)
    queue: str = Field(min_length=1, max_length=64)
    assigned: bool


class QueueSettingsIn(BaseModel):
    labels_per_item: int = Field(ge=1, le=20)
    random_share: float = Field(ge=0.0, le=1.0)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, labelling: Context, who: Admin) -> HTMLResponse:
    queues = labelling.queues
    table = labelling.store.assignments()
    people = sorted(labelling.annotator_names)
    grid = {p: {q: table.get(p, {}).get(q, True) for q in queues} for p in people}
    configs = {q: labelling.queue_settings(q) for q in queues}
    return labelling.page(
        "admin.html", request, people=people, queues=queues, grid=grid, configs=configs
    )


@router.post("/api/admin/assignments", status_code=201)
def api_assign(body: AssignmentIn, labelling: Context, who: Admin) -> dict[str, Any]:
    if body.queue not in labelling.queues:
        raise HTTPException(404, f"no queue '{body.queue}'")
    if body.annotator not in labelling.annotator_names:
        raise HTTPException(404, f"no annotator '{body.annotator}'")
    labelling.store.assign(body.annotator, body.queue, body.assigned, who.name)
    return body.model_dump()


@router.post("/api/admin/queues/{name}", status_code=201)
def api_configure(
    name: str, body: QueueSettingsIn, labelling: Context, who: Admin
) -> dict[str, Any]:
    if name not in labelling.queues:
        raise HTTPException(404, f"no queue '{name}'")
    labelling.store.configure(
        name, QueueSettings(body.labels_per_item, body.random_share), who.name
    )
    return body.model_dump()
