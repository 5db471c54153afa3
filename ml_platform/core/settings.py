"""The one place that reads the environment: `ML_PLATFORM_ENV` picks the deployment's resources."""

import os
from pathlib import Path

import dagster as dg

from ml_platform.core.catalog import DataCatalog
from ml_platform.core.errors import InvalidInputError
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager

DEPLOYMENTS = ("local", "production")


def _local_home() -> Path:
    """Absolute, because run and step processes may start elsewhere."""
    return Path(os.environ.get("ML_PLATFORM_HOME", os.getcwd())).absolute() / ".ml_platform"


def dagster_home() -> Path:
    """Where a command that runs jobs itself keeps its Dagster instance: `$DAGSTER_HOME` (the
    deployment's), else `.ml_platform/dagster_home` beside the local warehouse, as the demo does."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    return _local_home() / "dagster_home"


def _local_store_and_warehouse() -> tuple[ObjectStore, Warehouse, DataCatalog]:
    """Files under one folder so `dagster dev` works with nothing else running."""
    home = _local_home()
    store = ObjectStore(base_uri=os.environ.get("ML_PLATFORM_STORAGE_URI", str(home / "storage")))
    url = os.environ.get("ML_PLATFORM_WAREHOUSE_URL", f"sqlite:///{home / 'warehouse.db'}")
    return store, Warehouse(url=url), DataCatalog()  # no catalog locally: exports are files


def _optional(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if name in os.environ else None


def _production_store_and_warehouse() -> tuple[ObjectStore, Warehouse, DataCatalog]:
    """EnvVar is resolved when a run starts, so no URI or password ever lands in code or in the UI."""
    store = ObjectStore(
        base_uri=dg.EnvVar("ML_PLATFORM_STORAGE_URI"),
        endpoint_url=_optional("ML_PLATFORM_S3_ENDPOINT_URL"),
    )
    catalog = DataCatalog(
        glue_database=_optional("ML_PLATFORM_GLUE_DATABASE"),
        endpoint_url=_optional("ML_PLATFORM_GLUE_ENDPOINT_URL"),
    )
    return store, Warehouse(url=dg.EnvVar("ML_PLATFORM_WAREHOUSE_URL")), catalog


def _deployment(deployment: str | None) -> str:
    deployment = deployment or os.environ.get("ML_PLATFORM_ENV", "local")
    if deployment not in DEPLOYMENTS:
        raise InvalidInputError(
            f"ML_PLATFORM_ENV is '{deployment}', expected one of: {', '.join(DEPLOYMENTS)}"
        )
    return deployment


def build_executor(deployment: str | None = None) -> dg.ExecutorDefinition:
    """How a run executes its steps: locally one after another in the run's own process,
    in production a process per step.

    A step process imports Dagster, the platform and often TensorFlow again before it does any
    work (10-30 s each on a loaded 2-core laptop, more than most steps' own work on the demo
    data), and two cores gain little from running steps side by side; a production run pod has
    the cores, and isolates a step that runs out of memory."""
    if _deployment(deployment) == "local":
        return dg.in_process_executor
    return dg.multiprocess_executor


def build_resources(deployment: str | None = None) -> dict[str, object]:
    """Resources for `deployment`, by default `$ML_PLATFORM_ENV` (unset means local)."""
    deployment = _deployment(deployment)
    if deployment == "local":
        store, warehouse, catalog = _local_store_and_warehouse()
    else:
        store, warehouse, catalog = _production_store_and_warehouse()
    return {
        "io_manager": ObjectStoreIOManager(store=store),
        "object_store": store,
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "catalog": catalog,
    }


SERVING_RELOAD_VARIABLE = "ML_PLATFORM_SERVING_RELOAD_SECONDS"


def serving_reload_seconds(default: float = 10.0) -> float:
    """How often the serving app looks for a newer stored model (`$ML_PLATFORM_SERVING_RELOAD_SECONDS`)."""
    raw = os.environ.get(SERVING_RELOAD_VARIABLE, str(default))
    try:
        interval = float(raw)
    except ValueError:
        interval = -1.0
    if not interval > 0:
        raise InvalidInputError(f"{SERVING_RELOAD_VARIABLE} is '{raw}', expected seconds > 0")
    return interval
