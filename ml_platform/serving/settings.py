"""What the serving app needs from its deployment: where models are stored and how often to look."""

import os
from dataclasses import dataclass

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.settings import build_resources
from ml_platform.core.storage import ObjectStore

RELOAD_INTERVAL_VARIABLE = "ML_PLATFORM_SERVING_RELOAD_SECONDS"


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
        raw = os.environ.get(RELOAD_INTERVAL_VARIABLE, str(cls.reload_interval_seconds))
        try:
            interval = float(raw)
        except ValueError:
            interval = -1.0
        if not interval > 0:
            raise InvalidInputError(f"{RELOAD_INTERVAL_VARIABLE} is '{raw}', expected seconds > 0")
        return cls(
            object_store=store.process_config_and_initialize(),
            reload_interval_seconds=interval,
        )
