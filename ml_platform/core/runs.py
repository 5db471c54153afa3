"""Evaluate a sensor once and execute the runs it requests, in this process.

What the Dagster daemon does on a tick, without a daemon: the demo drives the platform this way
on a laptop, and tests use it to exercise sensors, partitions and jobs together.
"""

from dataclasses import dataclass

import dagster as dg


@dataclass
class Tick:
    """A sensor evaluation and the runs it started."""

    skipped: str | None
    cursor: str | None
    runs: list[dg.ExecuteInProcessResult]
    requests: list[dg.RunRequest]


def tick(
    sensor: dg.SensorDefinition,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    cursor: str | None = None,
    raise_on_error: bool = True,
    console_log_level: str = "WARNING",
    tags: dict[str, str] | None = None,
) -> Tick:
    """Every step event is still stored in the instance (the UI shows it); only the console,
    which would otherwise print hundreds of DEBUG lines per run, is kept to warnings. Each run
    carries the tags the daemon gives a sensor's runs (`dagster/sensor_name`), so the UI says
    the sensor launched it, not "Manually launched"; `tags` are added to every run (who started
    it, for instance)."""
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    ) as context:
        result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return Tick(skipped=result.skip_message, cursor=cursor, runs=[], requests=[])
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    runs = [
        # a sensor targeting several jobs names one per request
        defs.resolve_job_def(request.job_name or sensor.job_name).execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags={**request.tags, **dg.DagsterRun.tags_for_sensor(sensor), **(tags or {})},
            raise_on_error=raise_on_error,
            run_config={"loggers": {"console": {"config": {"log_level": console_log_level}}}},
        )
        for request in result.run_requests
    ]
    return Tick(skipped=None, cursor=result.cursor, runs=runs, requests=list(result.run_requests))


def materialized(run: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    """Asset name → its materialization metadata (plain values), for reports and assertions."""
    out = {}
    for event in run.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        out[materialization.asset_key.to_user_string()] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    return out
