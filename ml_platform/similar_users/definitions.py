"""The similar-users product as one Definitions object (storage resources come from the platform)."""

import dagster as dg

from ml_platform.similar_users import assets, checks, sensors
from ml_platform.similar_users.resources import SimilarUsersSettings


def build_definitions(settings: SimilarUsersSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=checks.ALL_CHECKS,
        jobs=[sensors.similar_users_job],
        sensors=[sensors.similar_users_new_rows_sensor],
        resources={"similar_users_settings": settings or SimilarUsersSettings()},
    )


defs = build_definitions()
