import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.entity_matching.records import load_feedback, load_records, validate_records
from ml_platform.entity_matching.schema import load_schema

HEADER = "id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id"
FEBRL_HEADER = ", ".join(["rec_id", *HEADER.split(",")[1:]])
ROWS = [
    "t1,amelia,hartley,12,banksia street,rosedale,dapto,2530,nsw,19620314,4418207",
    "t2,oscar,nguyen,7,flinders place,,frankston,3199,vic,19881102,9034412",
    "t3,,whitlam,,coronation crescent,the willows,toowong,4066,qld,19450493,1276580",
]


@pytest.fixture
def schema():
    return load_schema()


def write(tmp_path, lines, name="people.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_records_come_back_with_id_first_then_schema_columns_all_text(tmp_path, schema):
    records = load_records(write(tmp_path, [HEADER, *ROWS]), schema)

    assert list(records.columns) == ["id", *schema.columns]
    assert records["id"].tolist() == ["t1", "t2", "t3"]
    assert all(str(dtype) == "str" for dtype in records.dtypes)
    assert records.loc[0, "surname"] == "hartley"


def test_empty_values_are_missing_and_impossible_but_date_shaped_dates_are_kept(tmp_path, schema):
    records = load_records(write(tmp_path, [HEADER, *ROWS]), schema)

    assert pd.isna(records.loc[1, "address_2"])
    assert pd.isna(records.loc[2, "given_name"]) and pd.isna(records.loc[2, "street_number"])
    assert records.loc[2, "date_of_birth"] == "19450493"  # corrupted data is what matching is for


def test_febrl_files_with_rec_id_and_comma_space_separators_load_with_the_default_schema(
    tmp_path, schema
):
    lines = [
        FEBRL_HEADER,
        "rec-17-org, amelia, hartley, 12, banksia street, rosedale, dapto, 2530, nsw, 19620314, 4418207",
        "rec-17-dup-0, amelia, hart ley, 12, banksia street, , dapto, 2530, nsw, 19620314, 4418207",
    ]

    records = load_records(write(tmp_path, lines), schema)

    assert records["id"].tolist() == ["rec-17-org", "rec-17-dup-0"]
    assert records.loc[1, "surname"] == "hart ley"  # inner spaces are data, only edges are stripped
    assert pd.isna(records.loc[1, "address_2"])
    assert records.loc[0, "soc_sec_id"] == "4418207"


def test_iso_dates_are_rewritten_to_the_schema_format(tmp_path, schema):
    row = ROWS[0].replace("19620314", "1962-03-14")
    records = load_records(write(tmp_path, [HEADER, row]), schema)

    assert records.loc[0, "date_of_birth"] == "19620314"


def test_extra_columns_are_dropped_but_modified_at_is_kept_last(tmp_path, schema):
    lines = [HEADER + ",note,modified_at", ROWS[0] + ",call back,2024-05-01T10:00:00Z"]

    records = load_records(write(tmp_path, lines), schema)

    assert list(records.columns) == ["id", *schema.columns, "modified_at"]
    assert records.loc[0, "modified_at"] == "2024-05-01T10:00:00Z"


def test_blank_lines_are_skipped_without_shifting_line_numbers_in_errors(tmp_path, schema):
    lines = [HEADER, ROWS[0], "", ROWS[1].replace("19881102", "yesterday")]

    with pytest.raises(InvalidInputError, match=r"line 4 \(header is line 1\)"):
        load_records(write(tmp_path, lines), schema)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [HEADER, ROWS[0], ROWS[1].replace("19881102", "12/ab/1990")],
            ["line 3", "date_of_birth", "12/ab/1990", "YYYYMMDD"],
        ),
        (
            [HEADER, ROWS[0], ROWS[1], ROWS[2].replace("19450493", "yesterday")],
            ["line 4", "date_of_birth", "yesterday"],
        ),
        ([HEADER, ROWS[0], ROWS[1].replace("t2,", ",", 1)], ["line 3", "'id'", "empty"]),
        (
            [HEADER, ROWS[0], ROWS[1], ROWS[2].replace("t3,", "t1,", 1)],
            ["line 4", "line 2", "'id'", "t1"],
        ),
        ([HEADER.replace(",suburb", ",town"), *ROWS], ["suburb", "town"]),
        ([HEADER.replace("id,", "person,", 1), *ROWS], ["'id'", "'rec_id'", "person"]),
        ([HEADER, ROWS[0], ROWS[1] + ",surplus"], ["line 3", "Expected 11 fields"]),
        ([HEADER], ["no rows"]),
        ([], ["empty"]),
    ],
)
def test_bad_record_files_are_errors_naming_file_line_and_column(tmp_path, schema, lines, expected):
    path = tmp_path / "bad_people.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))

    with pytest.raises(InvalidInputError) as error:
        load_records(path, schema)

    assert "bad_people.csv" in str(error.value)
    for part in expected:
        assert part in str(error.value)


def test_a_missing_file_is_an_error_naming_it(tmp_path, schema):
    with pytest.raises(InvalidInputError, match="absent.csv"):
        load_records(tmp_path / "absent.csv", schema)


def test_in_memory_records_get_the_same_validation_with_row_numbers(schema):
    frame = pd.DataFrame([row.split(",") for row in ROWS], columns=HEADER.split(","))
    frame.loc[1, "date_of_birth"] = "02-11-1988"

    with pytest.raises(
        InvalidInputError, match=r"table em_raw_sources: row 2: column 'date_of_birth'"
    ):
        validate_records(frame, schema, "table em_raw_sources")


def test_in_memory_records_are_cleaned_like_file_records(tmp_path, schema):
    frame = pd.DataFrame([row.split(",") for row in ROWS], columns=HEADER.split(","))

    from_frame = validate_records(frame, schema, "table")
    from_file = load_records(write(tmp_path, [HEADER, *ROWS]), schema)

    pd.testing.assert_frame_equal(from_frame, from_file)


FEEDBACK_HEADER = "source_id,target_id,label"


def test_feedback_labels_become_1_and_0_and_a_relabelled_pair_keeps_its_last_label(tmp_path):
    path = write(tmp_path, [FEEDBACK_HEADER, "s1,t1,1", "s2,t1,false", "s1,t2,TRUE", "s1,t1,0"])

    feedback = load_feedback(path)

    assert feedback.to_dict("records") == [
        {"source_id": "s2", "target_id": "t1", "label": 0},
        {"source_id": "s1", "target_id": "t2", "label": 1},
        {"source_id": "s1", "target_id": "t1", "label": 0},
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([FEEDBACK_HEADER, "s1,t1,1", "s2,t1,maybe"], ["line 3", "'label'", "maybe"]),
        ([FEEDBACK_HEADER, "s1,t1,1", "s9,t1,0"], ["line 3", "'source_id'", "s9"]),
        ([FEEDBACK_HEADER, "s1,t7,1"], ["line 2", "'target_id'", "t7"]),
        ([FEEDBACK_HEADER, ",t1,1"], ["line 2", "'source_id'", "empty"]),
        (["source_id,target,label", "s1,t1,1"], ["target_id", "target"]),
    ],
)
def test_bad_feedback_is_an_error_naming_file_line_column_and_value(tmp_path, lines, expected):
    path = write(tmp_path, lines, name="bad_feedback.csv")

    with pytest.raises(InvalidInputError) as error:
        load_feedback(path, source_ids={"s1", "s2"}, target_ids={"t1", "t2"})

    assert "bad_feedback.csv" in str(error.value)
    for part in expected:
        assert part in str(error.value)
