"""Fixtures of the entity-matching command tests: numbered people and a configured warehouse."""

import uuid

import pytest
import sqlalchemy as sa

from ml_platform.core.warehouse import Warehouse
from ml_platform.demo_data.persons import generate_person_records


@pytest.fixture(scope="module")
def numbered_people():
    """20 targets with ids 1…20 and their corrupted copies as sources with ids 101…120."""
    dataset = generate_person_records(20, 20, seed=11, feedback_size=0)
    number = dict(zip(dataset.targets["id"], range(1, 21)))
    targets = dataset.targets.assign(id=range(1, 21)).drop(columns="modified_at", errors="ignore")
    sources = dataset.sources.merge(dataset.truth, left_on="id", right_on="source_id")
    sources = sources.assign(id=sources["target_id"].map(number) + 100)
    return targets, sources[["id", *targets.columns[1:]]]


@pytest.fixture(params=["sqlite", "postgres"])
def configured(request, tmp_path, monkeypatch) -> Warehouse:
    """The local deployment's settings pointed at a warehouse of the backend; its Warehouse."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
        warehouse = Warehouse(url=url)
    else:
        base = request.getfixturevalue("postgres_url")
        schema = f"test_{uuid.uuid4().hex[:12]}"
        warehouse = Warehouse(url=base, db_schema=schema)
        with warehouse.engine().begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
        url = f"{base}?options=-csearch_path%3D{schema}"
        request.addfinalizer(lambda: _drop(warehouse))
    monkeypatch.setenv("ML_PLATFORM_WAREHOUSE_URL", url)
    monkeypatch.setenv("ML_PLATFORM_HOME", str(tmp_path))
    monkeypatch.setenv("ML_PLATFORM_ENV", "local")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("ML_PLATFORM_STORAGE_URI", raising=False)
    return warehouse


def _drop(warehouse: Warehouse) -> None:
    with warehouse.engine().begin() as conn:
        conn.execute(sa.schema.DropSchema(warehouse.db_schema, cascade=True))
    warehouse.engine().dispose()
