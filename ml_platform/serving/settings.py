"""What the serving app needs from its deployment: where models are stored and how often to look."""

from dataclasses import dataclass

from ml_platform.core.settings import build_resources, serving_reload_seconds
from ml_platform.core.storage import ObjectStore

# The largest request body read, by default: a predict batch of 1,000 tweets is ~0.5 MB, a
# full /score profile (1,500 words of up to 200 characters) ~0.3 MB.
MAX_BODY_BYTES = 4 * 2**20


@dataclass(frozen=True)
class ServingSettings:
    """Injected into `create_app`, so tests hand over a store of their own instead of patching env."""

    object_store: ObjectStore
    # Seconds between checks for a newer stored model: a cheap stat of one file, so a few
    # seconds of staleness after a materialization cost almost nothing.
    reload_interval_seconds: float = 10.0
    # Larger request bodies are answered 413, unread (a Content-Length over it) or as soon as
    # the bytes read pass it (chunked).
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_environment(cls) -> "ServingSettings":
        """The store of `$ML_PLATFORM_ENV` exactly as Dagster's runs see it, so the app reads what
        the assets wrote. `process_config_and_initialize` resolves the `EnvVar`s of production."""
        store = build_resources()["object_store"]
        assert isinstance(store, ObjectStore)
        return cls(
            object_store=store.process_config_and_initialize(),
            reload_interval_seconds=serving_reload_seconds(cls.reload_interval_seconds),
        )
