"""What every labelling route shares: the app's `Labelling` (settings, stores, queues, templates,
sessions), the page renderer, and the `Signed`/`Admin` dependencies that name who is asking.

One `Labelling` is built per app by `app.create_app` and kept in `app.state.labelling`; the
routers (`ml_platform/labelling/routers/`) take it through the `Context` dependency, so they hold
no module state and two apps over two warehouses never share anything.
"""

import hmac
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from ml_platform.labelling.queues import PairQueue, Progress, Queue, TweetQueue, next_item, progress
from ml_platform.labelling.sessions import SessionStore, SignInLimiter, digest
from ml_platform.labelling.settings import SECRET_VARIABLE, Annotator, LabellingSettings
from ml_platform.labelling.store import LabelStore, QueueSettings
from ml_platform.tweets.contract import TweetTables

COOKIE = "ml_platform_labelling"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
log = logging.getLogger(__name__)


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


@dataclass
class Labelling:
    """One labelling app's state over one warehouse; tables are created on first use."""

    settings: LabellingSettings
    store: LabelStore = field(init=False)
    names: TweetTables = field(init=False)
    queues: dict[str, Queue] = field(init=False)
    defaults: QueueSettings = field(init=False)
    sessions: SessionStore = field(init=False)
    limiter: SignInLimiter = field(init=False)
    templates: jinja2.Environment = field(init=False)
    _annotators_by_digest: dict[str, Annotator] = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.store = LabelStore(settings.warehouse)
        self.names = TweetTables(settings.tweets_prefix, settings.tweets_version)
        self.queues = {
            q.name: q
            for q in (TweetQueue(settings.warehouse, self.names), PairQueue(settings.warehouse))
            if q.name in settings.queues
        }
        self.defaults = QueueSettings(settings.labels_per_item, settings.random_share)
        self._annotators_by_digest = {
            digest(token): who for token, who in settings.annotators.items()
        }
        secret = settings.session_secret
        if secret is None:
            secret = secrets.token_bytes(32)
            log.warning(
                "%s is not set: session cookies are signed with a random secret of this "
                "process, so every sign-in ends when it restarts (`ml-platform labelling "
                "secret` prints one)",
                SECRET_VARIABLE,
            )
        self.sessions = SessionStore(settings.warehouse, secret, settings.session_lifetime)
        self.limiter = SignInLimiter(
            attempts=settings.signin_attempts_per_minute, window_seconds=60.0
        )
        self.templates = _templates()

    # who is asking ------------------------------------------------------------------------------

    @property
    def annotator_names(self) -> set[str]:
        return {a.name for a in self.settings.annotators.values()}

    def by_token(self, token: str) -> Annotator | None:
        found = None
        for known, annotator in self.settings.annotators.items():
            # compare every token in constant time
            if hmac.compare_digest(known.encode(), token.encode()):
                found = annotator
        return found

    def signed_in(self, request: Request) -> tuple[Annotator, str | None] | None:
        """(annotator, session id — None for a bearer token) for the request, or None."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            annotator = self.by_token(header[7:].strip())
            return None if annotator is None else (annotator, None)
        cookie = request.cookies.get(COOKIE, "")
        session = self.sessions.check(cookie) if cookie else None
        if session is None:
            return None
        # a token removed or rotated in the configuration ends its sessions
        annotator = self._annotators_by_digest.get(session.token_digest)
        return None if annotator is None else (annotator, session.session_id)

    def secure(self, request: Request) -> bool:
        """Whether the session cookie is `Secure`: configured, or else unless on loopback."""
        if self.settings.secure_cookies is not None:
            return self.settings.secure_cookies
        return (request.url.hostname or "") not in LOOPBACK

    # pages --------------------------------------------------------------------------------------

    def page(self, name: str, request: Request, code: int = 200, **context: Any) -> HTMLResponse:
        who: Annotator | None = getattr(request.state, "annotator", None)
        session_id: str | None = getattr(request.state, "session_id", None)
        html = self.templates.get_template(name).render(
            annotator=who,
            csrf=self.sessions.csrf_token(session_id) if session_id else "",
            refresh=self.settings.dashboard_refresh_seconds,
            status=code,
            **context,
        )
        return HTMLResponse(html, status_code=code)

    def signin_page(self, request: Request, message: str | None) -> HTMLResponse:
        target = request.url.path if request.method == "GET" else "/"
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        return self.page("signin.html", request, 401, message=message, next=target)

    # queues -------------------------------------------------------------------------------------

    def assigned(self, who: Annotator) -> list[str]:
        mine = self.store.assignments().get(who.name, {})
        return [name for name in self.queues if mine.get(name, True)]

    def queue_for(self, name: str, who: Annotator) -> Queue:
        if name not in self.queues:
            raise HTTPException(404, f"no queue '{name}'; queues: {', '.join(self.queues)}")
        if name not in self.assigned(who):
            raise HTTPException(403, f"queue '{name}' is not assigned to {who.name}")
        return self.queues[name]

    def queue_settings(self, name: str) -> QueueSettings:
        return self.store.queue_settings(name, self.defaults)

    def queue_state(self, queue: Queue) -> tuple[Any, Any, QueueSettings]:
        return queue.candidates(), self.store.current(queue.name), self.queue_settings(queue.name)

    def choose(self, queue: Queue, who: Annotator) -> tuple[str | None, Progress, QueueSettings]:
        candidates, current, config = self.queue_state(queue)
        mine = self.store.rows(queue=queue.name, annotator=who.name)
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

    def publish(self, queue: Queue, item_id: str, who: Annotator) -> str | None:
        config = self.queue_settings(queue.name)
        current = self.store.current(queue.name, [item_id])
        return queue.publish(item_id, current, who.name, config.labels_per_item, datetime.now(UTC))


def labelling(request: Request) -> Labelling:
    return request.app.state.labelling


def annotator(request: Request) -> Annotator:
    """Who signed in: set by the authentication middleware before any route runs."""
    return request.state.annotator


Context = Annotated[Labelling, Depends(labelling)]
Signed = Annotated[Annotator, Depends(annotator)]


def admin(who: Signed) -> Annotator:
    if not who.admin:
        raise HTTPException(403, "admins only")
    return who


Admin = Annotated[Annotator, Depends(admin)]
