"""The entity-matching product as one Definitions object (storage resources come from the platform)."""

import dagster as dg

from ml_platform.entity_matching import assets, checks
from ml_platform.entity_matching.jobs import entity_matching_job
from ml_platform.entity_matching.resources import MatchingPolicy
from ml_platform.entity_matching.schedules import em_nightly_schedule
from ml_platform.entity_matching.sensors import (
    em_automation_sensor,
    em_feedback_sensor,
    em_new_records_sensor,
)


def build_definitions(policy: MatchingPolicy | None = None) -> dg.Definitions:
    """The product with a matching policy (defaults unless a caller, e.g. a test, tightens it)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=checks.ALL_CHECKS,
        jobs=[entity_matching_job],
        sensors=[em_new_records_sensor, em_feedback_sensor, em_automation_sensor],
        schedules=[em_nightly_schedule],
        resources={"policy": policy or MatchingPolicy()},
    )


defs = build_definitions()
