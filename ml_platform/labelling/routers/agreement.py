"""How much annotators agree, per queue: a page and its JSON."""

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ml_platform.labelling import agreement
from ml_platform.labelling.web import Context, Signed

router = APIRouter()


@router.get("/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, labelling: Context, who: Signed) -> HTMLResponse:
    rows = []
    for name, queue in labelling.queues.items():
        current = labelling.store.current(name)
        rows.append(
            (
                queue,
                labelling.queue_settings(name),
                agreement.queue_agreement(current),
                agreement.disagreements(current).head(50).to_dict("records"),
            )
        )
    return labelling.page("agreement.html", request, queues=rows)


def _kappa(value: float) -> float | None:
    return None if math.isnan(value) else value


@router.get("/api/agreement")
def api_agreement(labelling: Context, who: Signed) -> dict[str, Any]:
    out = {}
    for name in labelling.queues:
        result = agreement.queue_agreement(labelling.store.current(name))
        out[name] = {
            "items": result.items,
            "observed": result.observed,
            "fleiss_kappa": _kappa(result.fleiss_kappa),
            "pairs": [{**p.__dict__, "kappa": _kappa(p.kappa)} for p in result.pairs],
        }
    return out
