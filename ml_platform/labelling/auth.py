"""The gate in front of every labelling route: who is asking, CSRF on cookie calls, the security
headers on every answer (see the security model in `app.py`).

It runs before routing, so a path that does not exist answers 401 like one that does: nothing
about the app is learnt without a token. Two exceptions, both the same for everyone: the static
files (CSS, JavaScript: the sign-in page needs them to be styled before anyone has signed in) and
`/metrics` (request counts by route template, for Prometheus to scrape without a secret).
"""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ml_platform.labelling.web import Labelling

CSRF_HEADER = "x-csrf-token"
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

PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = {"/metrics"}

CallNext = Callable[[Request], Awaitable[Response]]


def authenticate(labelling: Labelling) -> Callable[[Request, CallNext], Awaitable[Response]]:
    """The HTTP middleware of an app over `labelling`."""

    async def middleware(request: Request, call_next: CallNext) -> Response:
        response = await _authenticated(labelling, request, call_next)
        response.headers.update(SECURITY_HEADERS)
        return response

    return middleware


async def _authenticated(labelling: Labelling, request: Request, call_next: CallNext) -> Response:
    path = request.url.path
    public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
    if public and request.method in ("GET", "HEAD"):
        return await call_next(request)
    if path == "/session" and request.method == "POST":
        return await call_next(request)
    found = await run_in_threadpool(labelling.signed_in, request)  # a session: a warehouse lookup
    api = path.startswith("/api/")
    if found is None:
        if api or request.method != "GET":
            return JSONResponse(
                {"detail": "sign in: send Authorization: Bearer <token>"},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        return labelling.signin_page(request, None)
    annotator, session_id = found
    if request.method not in ("GET", "HEAD") and session_id is not None:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = labelling.sessions.csrf_token(session_id)
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return JSONResponse({"detail": "missing or wrong X-CSRF-Token"}, status_code=403)
    request.state.annotator = annotator
    request.state.session_id = session_id
    return await call_next(request)
