"""What the labelling app needs from its deployment: the warehouse, the annotators and their
tokens, and the names of the tables it reads and writes.

Tokens come from configuration (`$ML_PLATFORM_LABELLING_TOKENS`), never from the repository:
`name:token[:admin]` entries separated by commas, e.g.
`alice:Zr3…:admin,bob:Qx9…` (`ml-platform labelling token` prints a fresh token). The secret
that signs session cookies comes from `$ML_PLATFORM_LABELLING_SECRET` (32+ characters).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import dagster as dg

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.settings import build_resources
from ml_platform.core.warehouse import Warehouse

TOKENS_VARIABLE = "ML_PLATFORM_LABELLING_TOKENS"
SECRET_VARIABLE = "ML_PLATFORM_LABELLING_SECRET"
MIN_TOKEN_LENGTH = 16  # a guessable token is no sign-in at all
MIN_SECRET_LENGTH = 32
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_TABLE_PREFIX = re.compile(r"[a-z][a-z0-9_]*_?|")


@dataclass(frozen=True)
class Annotator:
    name: str
    admin: bool = False


def parse_tokens(raw: str, origin: str = TOKENS_VARIABLE) -> dict[str, Annotator]:
    """token → annotator from `name:token[:admin]` entries; errors name the entry at fault."""
    annotators: dict[str, Annotator] = {}
    names: set[str] = set()
    for position, entry in enumerate(filter(None, (e.strip() for e in raw.split(","))), 1):
        parts = entry.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "admin"):
            raise InvalidInputError(
                f"{origin}: entry {position} has {len(parts)} ':'-separated parts, "
                "expected name:token or name:token:admin"
            )
        name, token = parts[0].strip(), parts[1].strip()
        if not _NAME.fullmatch(name):
            raise InvalidInputError(
                f"{origin}: entry {position}: name '{name}', expected 1-64 letters, digits, _.@-"
            )
        if len(token) < MIN_TOKEN_LENGTH:
            raise InvalidInputError(
                f"{origin}: entry {position} ({name}): token has {len(token)} characters, "
                f"expected at least {MIN_TOKEN_LENGTH}"
            )
        if name in names or token in annotators:
            raise InvalidInputError(f"{origin}: entry {position} ({name}): name or token repeated")
        names.add(name)
        annotators[token] = Annotator(name=name, admin=len(parts) == 3)
    if not annotators:
        raise InvalidInputError(f"{origin} is empty: give at least one name:token")
    return annotators


@dataclass(frozen=True)
class LabellingSettings:
    """Injected into `create_app`, so tests hand over a warehouse and tokens of their own."""

    warehouse: Warehouse
    annotators: dict[str, Annotator]  # token → annotator
    # the tweet product's tables: <prefix>test_dataset_<version>, <prefix>golden_labels, …
    tweets_prefix: str = ""
    tweets_version: int = 0
    # defaults of each queue until an admin changes them in the admin view
    labels_per_item: int = 1
    random_share: float = 0.2  # of tweets shown in random order, so the golden set stays unbiased
    dashboard_refresh_seconds: int = 30
    # the session cookie's Secure flag (browsers then never send it in clear); None: on unless
    # the page was asked for on a loopback address (127.0.0.1, ::1, localhost)
    secure_cookies: bool | None = None
    # signs session cookies; None: a random one per process (sessions end when it restarts,
    # and processes behind one address do not share them), with a warning at start
    session_secret: bytes | None = None
    session_lifetime: timedelta = timedelta(hours=12)
    signin_attempts_per_minute: int = 5  # failed sign-ins per client address
    queues: tuple[str, ...] = field(default=("tweets", "pairs"))

    def __post_init__(self) -> None:
        if not _TABLE_PREFIX.fullmatch(self.tweets_prefix):
            raise InvalidInputError(
                f"tweets prefix is '{self.tweets_prefix}', expected lowercase letters, digits, _"
            )
        if self.labels_per_item < 1:
            raise InvalidInputError(f"labels_per_item is {self.labels_per_item}, expected ≥ 1")
        if not 0.0 <= self.random_share <= 1.0:
            raise InvalidInputError(f"random_share is {self.random_share}, expected 0…1")
        if self.session_secret is not None and len(self.session_secret) < MIN_SECRET_LENGTH:
            raise InvalidInputError(
                f"{SECRET_VARIABLE} has {len(self.session_secret)} bytes, expected at least "
                f"{MIN_SECRET_LENGTH} (`ml-platform labelling secret` prints one)"
            )
        if self.session_lifetime <= timedelta(0):
            raise InvalidInputError(f"session lifetime is {self.session_lifetime}, expected > 0")
        if self.signin_attempts_per_minute < 1:
            raise InvalidInputError(
                f"signin_attempts_per_minute is {self.signin_attempts_per_minute}, expected ≥ 1"
            )

    @classmethod
    def from_environment(cls, **overrides: object) -> "LabellingSettings":
        """The warehouse of `$ML_PLATFORM_ENV` exactly as Dagster's runs see it (so labels land
        where the sensors look) and the tokens of `$ML_PLATFORM_LABELLING_TOKENS`."""
        warehouse = build_resources()["warehouse"]
        assert isinstance(warehouse, Warehouse)
        raw = dg.EnvVar(TOKENS_VARIABLE).get_value()
        if not raw:
            raise InvalidInputError(
                f"{TOKENS_VARIABLE} is not set: give name:token[:admin] entries separated by "
                "commas (`ml-platform labelling token` prints a fresh token)"
            )
        secret = dg.EnvVar(SECRET_VARIABLE).get_value()
        return cls(
            warehouse=warehouse.process_config_and_initialize(),
            annotators=parse_tokens(raw),
            session_secret=secret.encode() if secret else None,
            **overrides,  # type: ignore[arg-type]
        )
