"""Signing in with an annotator token (the one form of the site) and signing out."""

from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ml_platform.labelling.web import COOKIE, Context

router = APIRouter()


@router.post("/session")
async def sign_in(request: Request, labelling: Context) -> Response:
    # a browser's form POST carries Origin (or at least Referer, same-origin by our
    # Referrer-Policy); one with neither is no page of this site
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or urlsplit(origin).netloc != request.headers.get("host"):
        return JSONResponse({"detail": "sign-in from another site"}, status_code=403)
    address = request.client.host if request.client else ""
    wait = labelling.limiter.retry_after(address)
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
    if labelling.by_token(token) is None:
        labelling.limiter.failed(address)
        return labelling.signin_page(request, "Unknown token.")
    cookie, session = await run_in_threadpool(labelling.sessions.open, token)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(labelling.settings.session_lifetime.total_seconds()),
        expires=session.expires_at,
        httponly=True,
        samesite="strict",
        secure=labelling.secure(request),
    )
    return response


@router.post("/api/signout")
def sign_out(request: Request, labelling: Context) -> Response:
    if request.state.session_id is not None:
        labelling.sessions.revoke(request.state.session_id)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(
        COOKIE, samesite="strict", secure=labelling.secure(request), httponly=True
    )
    return response
