"""The queues: the home page, the labelling page, and the JSON calls its keyboard makes."""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ml_platform.labelling.queues import progress
from ml_platform.labelling.web import Context, Signed

router = APIRouter()


class LabelIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=500)
    action: Literal["label", "skip"] = "label"
    label: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    item_version: str | None = Field(default=None, max_length=64)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, labelling: Context, who: Signed) -> HTMLResponse:
    rows = []
    for name in labelling.assigned(who):
        queue = labelling.queues[name]
        candidates, current, config = labelling.queue_state(queue)
        rows.append(
            (queue, progress(candidates, current, who.name, config.labels_per_item), config)
        )
    return labelling.page("home.html", request, queues=rows)


@router.get("/queues/{name}", response_class=HTMLResponse)
def label_page(
    request: Request,
    labelling: Context,
    name: str,
    who: Signed,
    item: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    queue = labelling.queue_for(name, who)
    chosen, done, config = labelling.choose(queue, who)
    item_id = item or chosen
    view = queue.view(item_id) if item_id else None
    if item and view is None:
        raise HTTPException(404, f"no item '{item}' in queue '{name}'")
    mine = labelling.store.current(queue.name, [item_id]) if item_id else None
    previous = None
    if mine is not None and len(mine):
        own = mine[mine["annotator"] == who.name]
        previous = own.iloc[-1]["label"] if len(own) else None
    keys = {c.key: c.value for c in queue.choices}
    return labelling.page(
        f"label_{queue.name}.html",
        request,
        queue=queue,
        view=view,
        progress=done,
        config=config,
        previous=previous,
        keys=json.dumps(keys),
    )


@router.get("/api/queues/{name}/next")
def api_next(name: str, labelling: Context, who: Signed) -> dict[str, Any]:
    queue = labelling.queue_for(name, who)
    item_id, done, _ = labelling.choose(queue, who)
    view = queue.view(item_id) if item_id else None
    return {
        "item": None
        if view is None
        else {"item_id": view.item_id, "version": view.version, "fields": view.fields},
        "progress": done.__dict__,
    }


@router.post("/api/queues/{name}/labels", status_code=201)
def api_label(name: str, body: LabelIn, labelling: Context, who: Signed) -> dict[str, Any]:
    queue = labelling.queue_for(name, who)
    values = {c.value for c in queue.choices}
    if body.action == "label" and body.label not in values:
        raise HTTPException(
            422, f"label '{body.label}' for queue '{name}', expected one of {sorted(values)}"
        )
    if queue.view(body.item_id) is None:
        raise HTTPException(404, f"no item '{body.item_id}' in queue '{name}'")
    row_id = labelling.store.record(
        name,
        body.item_id,
        who.name,
        body.action,
        label=body.label if body.action == "label" else None,
        note=(body.note or "").strip() or None,
        item_version=body.item_version,
    )
    return {"id": row_id, "published": labelling.publish(queue, body.item_id, who)}


@router.post("/api/queues/{name}/undo")
def api_undo(name: str, labelling: Context, who: Signed) -> dict[str, Any]:
    queue = labelling.queue_for(name, who)
    undone = labelling.store.undo(name, who.name)
    if undone is None:
        raise HTTPException(409, "nothing to undo")
    item_id = undone["item_id"]
    return {"item_id": item_id, "published": labelling.publish(queue, item_id, who)}
