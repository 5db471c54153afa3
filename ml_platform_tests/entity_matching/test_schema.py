import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.entity_matching.schema import RecordSchema, load_schema

FEBRL_COLUMNS = [
    "given_name", "surname", "street_number", "address_1", "address_2",
    "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
]  # fmt: skip


def test_default_schema_describes_febrl_person_records():
    schema = load_schema()

    assert schema.id_column == "id"
    assert schema.id_column_alternatives == ("rec_id",)
    assert list(schema.columns) == FEBRL_COLUMNS
    assert schema.date_format == "%Y%m%d"
    assert schema.columns_of_type("name") == ["given_name", "surname"]
    assert schema.columns_of_type("code", "date") == [
        "postcode", "state", "date_of_birth", "soc_sec_id",
    ]  # fmt: skip
    assert schema.comparison_groups == {
        "address": ["street_number", "address_1", "address_2", "suburb", "postcode", "state"]
    }


def test_asking_for_an_unknown_column_type_is_an_error():
    with pytest.raises(InvalidInputError, match="person_name"):
        load_schema().columns_of_type("person_name")


def test_custom_schema_file_gives_its_columns_blocking_rules_and_date_format(tmp_path):
    path = tmp_path / "customer.yaml"
    path.write_text(
        "id_column: customer_no\n"
        "id_column_alternatives: [cust_id]\n"
        "date_format: '%d/%m/%Y'\n"
        "columns:\n  first: name\n  last: name\n  born: date\n  city: text\n"
        "comparison_groups:\n  names: [first, last]\n"
        "blocking:\n  - {columns: [last], method: exact}\n"
        "  - {columns: [born, first], method: sorted_neighbourhood, window: 3}\n"
    )

    schema = load_schema(path)

    assert schema == RecordSchema(
        id_column="customer_no",
        columns={"first": "name", "last": "name", "born": "date", "city": "text"},
        id_column_alternatives=("cust_id",),
        blocking=(
            {"columns": ["last"], "method": "exact"},
            {"columns": ["born", "first"], "method": "sorted_neighbourhood", "window": 3},
        ),
        date_format="%d/%m/%Y",
        comparison_groups={"names": ["first", "last"]},
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("columns: {surname: name}\n", "id_column"),
        ("id_column: id\n", "columns"),
        ("id_column: id\ncolumns: {surname: person_name}\n", "columns.surname"),
        ("id_column: id\ncolums: {surname: name}\n", "colums"),
        ("id_column: id\ncolumns: {surname: name}\nblocking: surname\n", "blocking"),
        (
            "id_column: id\ncolumns: {surname: name}\nid_column_alternatives: 7\n",
            "id_column_alternatives",
        ),
        ("id_column: id\ncolumns: {surname: name}\ndate_format: '%Y-%m'\n", "date_format"),
        ("id_column: id\ncolumns: {id: code, surname: name}\n", "columns"),
        ("id_column: id\ncolumns: [surname\n", "YAML"),
        ("- just\n- a list\n", "mapping"),
        ("id_column: id\ncolumns: {a: name}\ncomparison_groups: {g: [b]}\n", "comparison_groups.g"),
        (
            "id_column: id\ncolumns: {a: name, b: name}\ncomparison_groups: {g: [a], h: [a, b]}\n",
            "comparison_groups.h",
        ),
        ("id_column: id\ncolumns: {a: name}\ncomparison_groups: [a]\n", "comparison_groups"),
    ],
)
def test_a_bad_schema_file_is_an_error_naming_the_file_and_key(tmp_path, text, named):
    path = tmp_path / "broken_schema.yaml"
    path.write_text(text)

    with pytest.raises(InvalidInputError) as error:
        load_schema(path)

    assert "broken_schema.yaml" in str(error.value)
    assert named in str(error.value)


def test_a_missing_schema_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(InvalidInputError, match="nowhere.yaml"):
        load_schema(tmp_path / "nowhere.yaml")
