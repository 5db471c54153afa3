"""What the serving app needs from its deployment: where models are stored and how often to look."""

from dataclasses import dataclass

from ml_platform.core.settings import build_resources, serving_reload_seconds
from ml_platform.core.storage import ObjectStore


@dataclass(frozen=True)
class ServingSettings:
    """Injected into `create_app`, so tests hand over a store of their own instead of patching env."""

    object_store: ObjectStore
    # Seconds between checks for a newer stored model: a cheap stat of one file, so a few
    # seconds of staleness after a materialization cost almost nothing.
    reload_interval_seconds: float = 10.0

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
