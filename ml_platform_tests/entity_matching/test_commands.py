"""`ml-platform em land / run-batch / link` as a person with files uses them, on both backends."""

import json
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.cli import main
from ml_platform.core.warehouse import Warehouse
from ml_platform.datasets.person_generator import generate_person_records


@pytest.fixture(scope="module")
def people():
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


def write(tmp_path, name: str, frame: pd.DataFrame) -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def run_batch(capsys) -> dict:
    assert main(["em", "run-batch"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def land(tmp_path, capsys, sources: pd.DataFrame, targets: pd.DataFrame) -> dict:
    name = uuid.uuid4().hex[:6]
    code = main(
        [
            "em",
            "land",
            "--sources",
            write(tmp_path, f"sources_{name}.csv", sources),
            "--targets",
            write(tmp_path, f"targets_{name}.csv", targets),
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_land_and_run_batch_import_ids_1_to_9_then_10_to_20(configured, people, tmp_path, capsys):
    targets, sources = people
    first, second = targets[targets["id"] <= 9], targets[targets["id"] >= 10]

    assert land(tmp_path, capsys, sources[sources["id"] <= 109], first)["targets"] == 9
    one = run_batch(capsys)
    land(tmp_path, capsys, sources[sources["id"] >= 110], second)
    two = run_batch(capsys)
    nothing = run_batch(capsys)

    assert (one["targets"], two["targets"]) == (9, 11)
    assert one["sources"] + two["sources"] == len(sources)
    assert one["matches"] + two["matches"] >= 0.9 * len(sources)
    assert nothing == {"batch": None, "sources": 0, "targets": 0, "matches": 0}
    imported = configured.read_table("em_targets")
    assert sorted(imported["id"].astype(int)) == list(range(1, 21))


def test_landing_an_id_again_updates_its_record(configured, people, tmp_path, capsys):
    targets, sources = people
    land(tmp_path, capsys, sources, targets)
    run_batch(capsys)

    moved = targets[targets["id"] == 3].assign(street_number="999")
    again = sources[sources["id"] == 103]
    land(tmp_path, capsys, again, moved)
    second = run_batch(capsys)

    assert (second["sources"], second["targets"]) == (1, 1)
    stored = configured.read_table("em_targets").sort_values("partition_key")
    newest = stored.drop_duplicates("id", keep="last").set_index("id")
    assert newest.loc["3", "street_number"] == "999" and len(newest) == 20
    latest = configured.read_table("em_matches", second["batch"]).set_index("source_id")
    assert latest.loc["103", "target_id"] == "3"


def test_land_refuses_a_bad_file_and_lands_nothing(configured, people, tmp_path, capsys):
    targets, sources = people
    broken = sources.assign(date_of_birth=["yesterday"] + list(sources["date_of_birth"][1:]))

    code = main(
        [
            "em",
            "land",
            "--targets",
            write(tmp_path, "targets.csv", targets),
            "--sources",
            write(tmp_path, "broken.csv", broken),
        ]
    )

    assert code == 2
    error = capsys.readouterr().err
    assert "broken.csv" in error and "line 2" in error and "date_of_birth" in error
    assert not configured.table_exists("em_landing_targets")


@pytest.fixture
def two_files(people, tmp_path) -> list[str]:
    targets, sources = people
    return [
        "--sources",
        write(tmp_path, "sources.csv", sources),
        "--targets",
        write(tmp_path, "targets.csv", targets),
    ]


@pytest.mark.parametrize("threshold", ["nan", "2", "-0.1", "half"])
def test_link_refuses_a_threshold_that_is_not_a_probability(two_files, tmp_path, threshold, capsys):
    output = str(tmp_path / "out.csv")
    with pytest.raises(SystemExit) as exit:
        main(["em", "link", *two_files, "--output", output, "--threshold", threshold])
    assert exit.value.code == 2
    assert f"'{threshold}' is not a probability from 0 to 1" in capsys.readouterr().err


def test_link_refuses_an_output_that_is_a_folder_or_under_a_file(two_files, tmp_path, capsys):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")

    assert main(["em", "link", *two_files, "--output", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["em", "link", *two_files, "--output", str(a_file / "matches.csv")]) == 2
    assert f"{a_file} is a file" in capsys.readouterr().err


def test_link_with_a_column_empty_in_every_record_matches_on_the_others(people, tmp_path, capsys):
    targets, sources = people
    blank = {"address_2": ""}
    output = tmp_path / "matches.csv"
    code = main(
        [
            "em",
            "link",
            "--sources",
            write(tmp_path, "sources.csv", sources.assign(**blank)),
            "--targets",
            write(tmp_path, "targets.csv", targets.assign(**blank)),
            "--output",
            str(output),
        ]
    )

    assert code == 0
    matches = pd.read_csv(output, dtype=str)
    right = (matches["source_id"].astype(int) - 100) == matches["target_id"].astype(int)
    assert right.sum() >= 0.9 * len(sources)
