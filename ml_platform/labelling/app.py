"""The labelling web app: server-rendered pages, a small JSON API, keyboard labelling.

Security model:
- Every route sits behind an annotator token (`LabellingSettings.annotators`): an
  `Authorization: Bearer <token>` header (scripts, the JSON API) or the session cookie set by
  signing in (`sessions.py`: HttpOnly, SameSite=Strict, Secure unless on loopback; a signed,
  expiring session id, never the token; revoked by sign-out). Without one, a page answers 401
  with the sign-in form and the API 401 JSON — before routing, so unknown paths answer 401 too.
  Admin pages and API answer 403 to other annotators. Failed sign-ins are limited per address
  (429 with Retry-After).
- CSRF: the only form is sign-in (its `Origin`, or without one its `Referer`, must be this
  site; neither is refused). Every other state change is a JSON call; with the cookie it must
  also carry `X-CSRF-Token`, an HMAC of the session id that only pages of this site contain (a
  cross-site page can neither read it nor send custom headers).
- HTML is rendered by Jinja with autoescaping on, and the Content-Security-Policy forbids
  inline script: a tweet containing `<script>` is shown as text and could not run anyway.
- SQL: values are always bound parameters (`sources.fetch`, SQLAlchemy Core).
"""

import hmac
import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, BeforeValidator, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ml_platform.labelling import agreement, dashboard
from ml_platform.labelling.queues import PairQueue, Progress, Queue, TweetQueue, next_item, progress
from ml_platform.labelling.sessions import SessionStore, SignInLimiter, digest
from ml_platform.labelling.settings import SECRET_VARIABLE, Annotator, LabellingSettings
from ml_platform.labelling.store import LabelStore, QueueSettings
from ml_platform.tweets.contract import TweetTables

COOKIE = "ml_platform_labelling"
CSRF_HEADER = "x-csrf-token"
STATIC_TYPES = {"labelling.js": "text/javascript", "labelling.css": "text/css"}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # no-referrer would make forms send Origin: null
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


LOOPBACK = {"127.0.0.1", "::1", "localhost"}
log = logging.getLogger(__name__)

# the filter form sends a cleared date field as `since=`: no bound, not an error
OptionalTime = Annotated[datetime | None, BeforeValidator(lambda v: v or None)]


class LabelIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=500)
    action: Literal["label", "skip"] = "label"
    label: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    item_version: str | None = Field(default=None, max_length=64)


class AssignmentIn(BaseModel):
    annotator: str = Field(min_length=1, max_length=64)
    queue: str = Field(min_length=1, max_length=64)
    assigned: bool


class QueueSettingsIn(BaseModel):
    labels_per_item: int = Field(ge=1, le=20)
    random_share: float = Field(ge=0.0, le=1.0)


def _templates() -> jinja2.Environment:
    folder = resources.files("ml_platform.labelling") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["kappa"] = lambda v: "—" if v is None or math.isnan(v) else f"{v:.3f}"
    environment.filters["share"] = lambda v: f"{100 * v:.1f}%"
    return environment


def create_app(settings: LabellingSettings) -> FastAPI:
    """The app over one warehouse; tables are created on first use, so it starts on an empty one."""
    store = LabelStore(settings.warehouse)
    names = TweetTables(settings.tweets_prefix, settings.tweets_version)
    queues: dict[str, Queue] = {
        q.name: q
        for q in (TweetQueue(settings.warehouse, names), PairQueue(settings.warehouse))
        if q.name in settings.queues
    }
    templates = _templates()
    names_by_token = settings.annotators
    defaults = QueueSettings(settings.labels_per_item, settings.random_share)
    annotators_by_digest = {digest(token): who for token, who in names_by_token.items()}
    secret = settings.session_secret
    if secret is None:
        secret = secrets.token_bytes(32)
        log.warning(
            "%s is not set: session cookies are signed with a random secret of this process, "
            "so every sign-in ends when it restarts (`ml-platform labelling secret` prints one)",
            SECRET_VARIABLE,
        )
    sessions = SessionStore(settings.warehouse, secret, settings.session_lifetime)
    limiter = SignInLimiter(attempts=settings.signin_attempts_per_minute, window_seconds=60.0)
    app = FastAPI(title="ml_platform labelling", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings  # for embedding apps and tests: where its labels go
    app.state.sessions = sessions

    def by_token(token: str) -> Annotator | None:
        found = None
        for known, annotator in names_by_token.items():  # compare every token in constant time
            if hmac.compare_digest(known.encode(), token.encode()):
                found = annotator
        return found

    def signed_in(request: Request) -> tuple[Annotator, str | None] | None:
        """(annotator, session id — None for a bearer token) for the request, or None."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            annotator = by_token(header[7:].strip())
            return None if annotator is None else (annotator, None)
        cookie = request.cookies.get(COOKIE, "")
        session = sessions.check(cookie) if cookie else None
        if session is None:
            return None
        # a token removed or rotated in the configuration ends its sessions
        annotator = annotators_by_digest.get(session.token_digest)
        return None if annotator is None else (annotator, session.session_id)

    def secure(request: Request) -> bool:
        if settings.secure_cookies is not None:
            return settings.secure_cookies
        return (request.url.hostname or "") not in LOOPBACK

    def page(name: str, request: Request, code: int = 200, **context: Any) -> HTMLResponse:
        who: Annotator | None = getattr(request.state, "annotator", None)
        session_id: str | None = getattr(request.state, "session_id", None)
        html = templates.get_template(name).render(
            annotator=who,
            csrf=sessions.csrf_token(session_id) if session_id else "",
            refresh=settings.dashboard_refresh_seconds,
            status=code,
            **context,
        )
        return HTMLResponse(html, status_code=code)

    def signin_page(request: Request, message: str | None) -> HTMLResponse:
        target = request.url.path if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        return page("signin.html", request, 401, message=message, next=target)

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await _authenticate(request, call_next)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path == "/session" and request.method == "POST":
            return await call_next(request)
        found = await run_in_threadpool(signed_in, request)  # a session is a warehouse lookup
        api = request.url.path.startswith("/api/")
        if found is None:
            if api or request.method != "GET":
                return JSONResponse(
                    {"detail": "sign in: send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
            return signin_page(request, None)
        annotator, session_id = found
        if request.method not in ("GET", "HEAD") and session_id is not None:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), sessions.csrf_token(session_id).encode()):
                return JSONResponse({"detail": "missing or wrong X-CSRF-Token"}, status_code=403)
        request.state.annotator = annotator
        request.state.session_id = session_id
        return await call_next(request)

    def annotator(request: Request) -> Annotator:
        return request.state.annotator

    Signed = Annotated[Annotator, Depends(annotator)]

    def admin(who: Signed) -> Annotator:
        if not who.admin:
            raise HTTPException(403, "admins only")
        return who

    Admin = Annotated[Annotator, Depends(admin)]

    def assigned(who: Annotator) -> list[str]:
        mine = store.assignments().get(who.name, {})
        return [name for name in queues if mine.get(name, True)]

    def queue_for(name: str, who: Annotator) -> Queue:
        if name not in queues:
            raise HTTPException(404, f"no queue '{name}'; queues: {', '.join(queues)}")
        if name not in assigned(who):
            raise HTTPException(403, f"queue '{name}' is not assigned to {who.name}")
        return queues[name]

    def queue_state(queue: Queue) -> tuple[Any, Any, QueueSettings]:
        return (
            queue.candidates(),
            store.current(queue.name),
            store.queue_settings(queue.name, defaults),
        )

    def choose(queue: Queue, who: Annotator) -> tuple[str | None, Progress, QueueSettings]:
        candidates, current, config = queue_state(queue)
        mine = store.rows(queue=queue.name, annotator=who.name)
        taken_back = (
            mine["item_id"].iloc[-1] if len(mine) and mine["action"].iloc[-1] == "retract" else None
        )
        if taken_back is not None and taken_back in set(candidates["item_id"]):
            item = str(taken_back)  # an undo brings its item back before anything else
        else:
            item = next_item(
                candidates,
                current,
                who.name,
                needed=config.labels_per_item,
                random_share=config.random_share,
                draw_key=f"{queue.name}:{who.name}:{len(mine)}",
            )
        return item, progress(candidates, current, who.name, config.labels_per_item), config

    def publish(queue: Queue, item_id: str, who: Annotator) -> str | None:
        config = store.queue_settings(queue.name, defaults)
        current = store.current(queue.name, [item_id])
        return queue.publish(item_id, current, who.name, config.labels_per_item, datetime.now(UTC))

    # sign-in ------------------------------------------------------------------------------------

    @app.post("/session")
    async def sign_in(request: Request) -> Response:
        # a browser's form POST carries Origin (or at least Referer, same-origin by our
        # Referrer-Policy); one with neither is no page of this site
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin or urlsplit(origin).netloc != request.headers.get("host"):
            return JSONResponse({"detail": "sign-in from another site"}, status_code=403)
        address = request.client.host if request.client else ""
        wait = limiter.retry_after(address)
        if wait:
            return JSONResponse(
                {"detail": f"too many failed sign-ins; try again in {wait} s"},
                status_code=429,
                headers={"retry-after": str(wait)},
            )
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        target = (form.get("next") or ["/"])[0]
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # never redirect off-site
        if by_token(token) is None:
            limiter.failed(address)
            return signin_page(request, "Unknown token.")
        cookie, session = await run_in_threadpool(sessions.open, token)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(settings.session_lifetime.total_seconds()),
            expires=session.expires_at,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        return response

    @app.post("/api/signout")
    def sign_out(request: Request) -> Response:
        if request.state.session_id is not None:
            sessions.revoke(request.state.session_id)
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE, samesite="strict", secure=secure(request), httponly=True)
        return response

    # pages --------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, who: Signed) -> HTMLResponse:
        rows = []
        for name in assigned(who):
            queue = queues[name]
            candidates, current, config = queue_state(queue)
            rows.append(
                (queue, progress(candidates, current, who.name, config.labels_per_item), config)
            )
        return page("home.html", request, queues=rows)

    @app.get("/queues/{name}", response_class=HTMLResponse)
    def label_page(
        request: Request,
        name: str,
        who: Signed,
        item: Annotated[str | None, Query(max_length=500)] = None,
    ) -> HTMLResponse:
        queue = queue_for(name, who)
        chosen, done, config = choose(queue, who)
        item_id = item or chosen
        view = queue.view(item_id) if item_id else None
        if item and view is None:
            raise HTTPException(404, f"no item '{item}' in queue '{name}'")
        mine = store.current(queue.name, [item_id]) if item_id else None
        previous = None
        if mine is not None and len(mine):
            own = mine[mine["annotator"] == who.name]
            previous = own.iloc[-1]["label"] if len(own) else None
        keys = {c.key: c.value for c in queue.choices}
        return page(
            f"label_{queue.name}.html",
            request,
            queue=queue,
            view=view,
            progress=done,
            config=config,
            previous=previous,
            keys=json.dumps(keys),
        )

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement_page(request: Request, who: Signed) -> HTMLResponse:
        rows = []
        for name, queue in queues.items():
            current = store.current(name)
            rows.append(
                (
                    queue,
                    store.queue_settings(name, defaults),
                    agreement.queue_agreement(current),
                    agreement.disagreements(current).head(50).to_dict("records"),
                )
            )
        return page("agreement.html", request, queues=rows)

    @app.get("/admin", response_class=HTMLResponse)
    def admin_page(request: Request, who: Admin) -> HTMLResponse:
        table = store.assignments()
        people = sorted({a.name for a in names_by_token.values()})
        grid = {p: {q: table.get(p, {}).get(q, True) for q in queues} for p in people}
        configs = {q: store.queue_settings(q, defaults) for q in queues}
        return page("admin.html", request, people=people, queues=queues, grid=grid, configs=configs)

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard_page(
        request: Request,
        who: Signed,
        min_probability: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
        since: OptionalTime = None,
        until: OptionalTime = None,
    ) -> HTMLResponse:
        # ISO 8601 with or without an offset (none means UTC), or Unix time, as pydantic reads them
        since, until = (
            None if v is None else v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
            for v in (since, until)
        )
        # an early `since` is fine (the window is shortened to its end); `until` must be a time
        # tweets could have: the window's start is computed back from it
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
        board = dashboard.load(
            settings.warehouse, names, min_probability=min_probability, since=since, until=until
        )
        chart = dashboard.hourly_svg(board.hourly)
        return page(
            "dashboard.html",
            request,
            board=board,
            max_days=dashboard.MAX_RANGE.days,
            chart=Markup(chart),  # built with every text escaped
        )

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC_TYPES:
            raise HTTPException(404, f"no static file '{name}'")
        body = (resources.files("ml_platform.labelling") / "static" / name).read_bytes()
        return Response(body, media_type=STATIC_TYPES[name])

    # JSON API -----------------------------------------------------------------------------------

    @app.get("/api/queues/{name}/next")
    def api_next(name: str, who: Signed) -> dict[str, Any]:
        queue = queue_for(name, who)
        item_id, done, _ = choose(queue, who)
        view = queue.view(item_id) if item_id else None
        return {
            "item": None
            if view is None
            else {"item_id": view.item_id, "version": view.version, "fields": view.fields},
            "progress": done.__dict__,
        }

    @app.post("/api/queues/{name}/labels", status_code=201)
    def api_label(name: str, body: LabelIn, who: Signed) -> dict[str, Any]:
        queue = queue_for(name, who)
        values = {c.value for c in queue.choices}
        if body.action == "label" and body.label not in values:
            raise HTTPException(
                422, f"label '{body.label}' for queue '{name}', expected one of {sorted(values)}"
            )
        if queue.view(body.item_id) is None:
            raise HTTPException(404, f"no item '{body.item_id}' in queue '{name}'")
        row_id = store.record(
            name,
            body.item_id,
            who.name,
            body.action,
            label=body.label if body.action == "label" else None,
            note=(body.note or "").strip() or None,
            item_version=body.item_version,
        )
        return {"id": row_id, "published": publish(queue, body.item_id, who)}

    @app.post("/api/queues/{name}/undo")
    def api_undo(name: str, who: Signed) -> dict[str, Any]:
        queue = queue_for(name, who)
        undone = store.undo(name, who.name)
        if undone is None:
            raise HTTPException(409, "nothing to undo")
        return {"item_id": undone["item_id"], "published": publish(queue, undone["item_id"], who)}

    @app.get("/api/agreement")
    def api_agreement(who: Signed) -> dict[str, Any]:
        out = {}
        for name in queues:
            result = agreement.queue_agreement(store.current(name))
            out[name] = {
                "items": result.items,
                "observed": result.observed,
                "fleiss_kappa": None if math.isnan(result.fleiss_kappa) else result.fleiss_kappa,
                "pairs": [
                    {**p.__dict__, "kappa": None if math.isnan(p.kappa) else p.kappa}
                    for p in result.pairs
                ],
            }
        return out

    @app.post("/api/admin/assignments", status_code=201)
    def api_assign(body: AssignmentIn, who: Admin) -> dict[str, Any]:
        if body.queue not in queues:
            raise HTTPException(404, f"no queue '{body.queue}'")
        if body.annotator not in {a.name for a in names_by_token.values()}:
            raise HTTPException(404, f"no annotator '{body.annotator}'")
        store.assign(body.annotator, body.queue, body.assigned, who.name)
        return body.model_dump()

    @app.post("/api/admin/queues/{name}", status_code=201)
    def api_configure(name: str, body: QueueSettingsIn, who: Admin) -> dict[str, Any]:
        if name not in queues:
            raise HTTPException(404, f"no queue '{name}'")
        store.configure(name, QueueSettings(body.labels_per_item, body.random_share), who.name)
        return body.model_dump()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET":
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        return page("error.html", request, error.status_code, detail=str(error.detail))

    return app
