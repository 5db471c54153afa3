"""HTTP serving of the platform's models: `create_app()` builds the app, `ml-platform serve` runs it."""

from ml_platform.serving.app import create_app
from ml_platform.serving.settings import ServingSettings

__all__ = ["ServingSettings", "create_app"]
