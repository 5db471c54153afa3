"""The labelling web app: server-rendered pages, a small JSON API, keyboard labelling.

Security model:
- Every route but the static files and `/metrics` sits behind an annotator token (`LabellingSettings.annotators`): an
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
- SQL: only through `core.warehouse` (typed `Select`s, values always bound parameters).

Layout: `web.Labelling` holds the app's state and page rendering, `auth.py` the gate above,
`routers/` one module per part of the site, and the static files are Starlette's `StaticFiles`
over the package's `static/` folder.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ml_platform.core.http_metrics import HttpMetrics, RequestMetrics
from ml_platform.labelling.auth import authenticate
from ml_platform.labelling.routers import admin, agreement, dashboard, queues, signin
from ml_platform.labelling.settings import LabellingSettings
from ml_platform.labelling.web import COOKIE, Labelling

__all__ = ["COOKIE", "create_app"]

ROUTERS = (signin.router, queues.router, agreement.router, admin.router, dashboard.router)


def create_app(settings: LabellingSettings) -> FastAPI:
    """The app over one warehouse; tables are created on first use, so it starts on an empty one."""
    labelling = Labelling(settings)
    app = FastAPI(title="ml_platform labelling", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings  # for embedding apps and tests: where its labels go
    app.state.sessions = labelling.sessions
    app.state.labelling = labelling
    app.middleware("http")(authenticate(labelling))
    metrics = HttpMetrics("ml_platform_labelling")
    app.add_middleware(RequestMetrics, metrics=metrics)  # outermost: counts the gate's 401s too
    for router in ROUTERS:
        app.include_router(router)
    app.add_api_route("/metrics", metrics.response, include_in_schema=False)
    app.mount("/static", StaticFiles(packages=[("ml_platform.labelling", "static")]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET":
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)
        return labelling.page("error.html", request, error.status_code, detail=str(error.detail))

    return app
