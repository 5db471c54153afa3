"""One product's declarative automation: the sensor that evaluates the `AutomationCondition`s on
the assets of its group (promotion after a passed check, follow-the-parents refreshes). One per
product, so a product's automation can be paused on its own; running by default, as the
products' other sensors are, so a promotion needs no click."""

import dagster as dg


def automation_sensor(name: str, group: str) -> dg.AutomationConditionSensorDefinition:
    """The automation condition sensor over every asset of `group`."""
    return dg.AutomationConditionSensorDefinition(
        name,
        target=dg.AssetSelection.groups(group),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
    )
