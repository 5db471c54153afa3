"""Browser sessions: what the sign-in cookie holds, how long it lasts, how sign-out ends it, and
how fast anyone may guess tokens.

The cookie never holds the annotator's token. It holds a random session id, its expiry and an
HMAC-SHA256 of both under a server secret (`$ML_PLATFORM_LABELLING_SECRET`), so a cookie that
was altered or has expired is refused without a lookup. The session itself is a row of
`labelling_sessions` in the warehouse (the id only as its SHA-256, so a copy of the table signs
nobody in), which names the token it was opened with by digest: sign-out marks the row revoked,
and a token removed or rotated in the configuration ends every session opened with it. Rows live
in the warehouse, not in the process, so a revoked cookie stays revoked across restarts and
across several app processes sharing one secret.

Sign-in attempts are limited per client address (`SignInLimiter`): a token of 16+ random
characters cannot be guessed anyway, but a limit keeps a prober from trying.
"""

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ml_platform.core.warehouse import Compare, IsNull, Kind, Select, TableSpec, Warehouse

SESSIONS = TableSpec(
    "labelling_sessions",
    {
        "id_digest": Kind.TEXT,
        "token_digest": Kind.TEXT,
        "created_at": Kind.TIMESTAMP,
        "expires_at": Kind.TIMESTAMP,
        "revoked_at": Kind.TIMESTAMP,
    },
    key=("id_digest",),
    required=("id_digest", "token_digest", "created_at", "expires_at"),
)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str
    token_digest: str  # sha256 of the annotator token the session was opened with
    expires_at: datetime


class SessionStore:
    """Opens, checks and revokes sessions; `secret` signs the cookies."""

    def __init__(self, warehouse: Warehouse, secret: bytes, lifetime: timedelta) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret needs at least 16 bytes")
        self.warehouse = warehouse
        self.secret = secret
        self.lifetime = lifetime
        warehouse.ensure_table(SESSIONS)

    def open(self, token: str, now: datetime | None = None) -> tuple[str, Session]:
        """A new session for `token`: the cookie value and the session."""
        now = now or datetime.now(UTC)
        session = Session(secrets.token_urlsafe(32), digest(token), now + self.lifetime)
        self.warehouse.insert_row(
            SESSIONS,
            {
                "id_digest": digest(session.session_id),
                "token_digest": session.token_digest,
                "created_at": now,
                "expires_at": session.expires_at,
                "revoked_at": None,
            },
        )
        return self._cookie(session.session_id, session.expires_at), session

    def check(self, cookie: str, now: datetime | None = None) -> Session | None:
        """The live session a cookie names, or None (forged, altered, expired or revoked)."""
        now = now or datetime.now(UTC)
        parts = cookie.split(".")
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdecimal():
            return None
        session_id, expiry, signature = parts
        expected = self._signature(session_id, expiry)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        if int(expiry) <= now.timestamp():
            return None
        this = Compare("id_digest", "==", digest(session_id))
        found = self.warehouse.rows(Select(SESSIONS.name, where=(this,), limit=1))
        row = found[0] if found else None
        if row is None or row["revoked_at"] is not None:
            return None
        expires_at = row["expires_at"]  # aware, in UTC
        if expires_at <= now:
            return None
        return Session(session_id, row["token_digest"], expires_at)

    def revoke(self, session_id: str, now: datetime | None = None) -> None:
        self.warehouse.update(
            SESSIONS.name,
            {"revoked_at": now or datetime.now(UTC)},
            [Compare("id_digest", "==", digest(session_id)), IsNull("revoked_at")],
        )

    def csrf_token(self, session_id: str) -> str:
        """What pages of this session send in `X-CSRF-Token`; no other site can compute it."""
        return hmac.new(self.secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()

    def _signature(self, session_id: str, expiry: str) -> str:
        mac = hmac.new(self.secret, f"session:{session_id}.{expiry}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def _cookie(self, session_id: str, expires_at: datetime) -> str:
        expiry = str(int(expires_at.timestamp()))
        return f"{session_id}.{expiry}.{self._signature(session_id, expiry)}"


class SignInLimiter:
    """At most `attempts` failed sign-ins per client address within `window_seconds`; the
    addresses remembered are capped, the oldest forgotten first, so a flood of addresses cannot
    grow memory without bound."""

    def __init__(
        self, attempts: int = 5, window_seconds: float = 60.0, max_addresses: int = 10_000
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self.max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str, now: float | None = None) -> int:
        """Seconds until `address` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._failures.get(address)
        if not failures:
            return 0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.attempts:
            return 0
        return max(1, int(failures[0] + self.window - now + 0.999))

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        failures = self._failures.setdefault(address, deque(maxlen=self.attempts))
        failures.append(now)
        self._failures.move_to_end(address)
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
