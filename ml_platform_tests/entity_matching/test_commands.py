"""`ml-platform em land / run-batch / link` as a person with files uses them, on both backends."""

import pandas as pd
import pytest

from ml_platform.cli import main
from ml_platform_tests.entity_matching.commands import land, run_batch, write


def test_land_and_run_batch_import_ids_1_to_9_then_10_to_20(
    configured, numbered_people, tmp_path, capsys
):
    targets, sources = numbered_people
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


def test_landing_an_id_again_updates_its_record(configured, numbered_people, tmp_path, capsys):
    targets, sources = numbered_people
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


def test_land_refuses_a_bad_file_and_lands_nothing(configured, numbered_people, tmp_path, capsys):
    targets, sources = numbered_people
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
def two_files(numbered_people, tmp_path) -> list[str]:
    targets, sources = numbered_people
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


def test_link_with_a_column_empty_in_every_record_matches_on_the_others(
    numbered_people, tmp_path, capsys
):
    targets, sources = numbered_people
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
