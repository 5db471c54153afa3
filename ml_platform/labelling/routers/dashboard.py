"""The AI-tweets dashboard: what the classifier found, per hour, over a chosen window."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from pydantic import BeforeValidator

from ml_platform.labelling import dashboard
from ml_platform.labelling.web import Context, Signed

router = APIRouter()

# the filter form sends a cleared date field as `since=`: no bound, not an error
OptionalTime = Annotated[datetime | None, BeforeValidator(lambda v: v or None)]


def _in_utc(value: datetime | None) -> datetime | None:
    """ISO 8601 with or without an offset (none means UTC), or Unix time, as pydantic reads them."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_window(since: datetime | None, until: datetime | None) -> None:
    """422 for a window no tweet can be in. An early `since` is fine (the window is shortened to
    its end); `until` must be a time tweets could have: the window's start is computed back
    from it."""
    if until is not None and not dashboard.EARLIEST <= until < dashboard.LATEST:
        raise HTTPException(
            422,
            f"until is {until:%Y-%m-%d %H:%M} UTC, expected a time from "
            f"{dashboard.EARLIEST:%Y-%m-%d} to before {dashboard.LATEST:%Y-%m-%d}",
        )
    if since is not None and since >= dashboard.LATEST:
        raise HTTPException(
            422, f"since is {since:%Y-%m-%d %H:%M} UTC, expected before {dashboard.LATEST:%Y}"
        )
    if since and until and since > until:
        raise HTTPException(422, "since is after until")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    labelling: Context,
    who: Signed,
    min_probability: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
    since: OptionalTime = None,
    until: OptionalTime = None,
) -> HTMLResponse:
    since, until = _in_utc(since), _in_utc(until)
    _check_window(since, until)
    board = dashboard.load(
        labelling.settings.warehouse,
        labelling.names,
        min_probability=min_probability,
        since=since,
        until=until,
    )
    return labelling.page(
        "dashboard.html",
        request,
        board=board,
        max_days=dashboard.MAX_RANGE.days,
        chart=Markup(dashboard.hourly_svg(board.hourly)),  # built with every text escaped
    )
