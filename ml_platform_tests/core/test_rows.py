"""Integer ids in the CSV loaders: out of the 64-bit range or negative is an error naming the
file, line and column — never a silent wrap-around to -9223372036854775808."""

import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.core.rows import RowLocator
from ml_platform.prod2vec.instacart import load_order_products
from ml_platform.recommender.movielens import load_ratings
from ml_platform.tweets.parsing import parse_truth

TWENTY_THREE_DIGITS = "12345678901234567890123"


def test_a_23_digit_value_is_refused_instead_of_wrapping_around():
    rows = RowLocator("f.csv", first_line=2)

    with pytest.raises(InvalidInputError) as error:
        rows.integers(pd.Series(["7", TWENTY_THREE_DIGITS], dtype="str"), "user_id")

    assert str(error.value) == (
        f"f.csv: line 3: column 'user_id' is '{TWENTY_THREE_DIGITS}', outside the 64-bit "
        "integer range (-9223372036854775808 to 9223372036854775807)"
    )


def test_the_int64_limits_themselves_parse_and_one_beyond_does_not():
    rows = RowLocator("f.csv", first_line=2)
    limits = pd.Series(["9223372036854775807", "-9223372036854775808"], dtype="str")

    assert rows.integers(limits, "n").tolist() == [2**63 - 1, -(2**63)]
    with pytest.raises(InvalidInputError, match="line 2: column 'n' is '9223372036854775808'"):
        rows.integers(pd.Series(["9223372036854775808"], dtype="str"), "n")


def test_a_negative_id_is_refused_but_a_negative_integer_is_not():
    rows = RowLocator("f.csv", first_line=2)
    values = pd.Series(["3", "-4"], dtype="str")

    assert rows.integers(values, "delta").tolist() == [3, -4]
    with pytest.raises(InvalidInputError) as error:
        rows.ids(values, "user_id")
    assert str(error.value) == "f.csv: line 3: column 'user_id' is -4, expected 0 or more"


@pytest.mark.parametrize(
    ("value", "problem"),
    [(TWENTY_THREE_DIGITS, "outside the 64-bit integer range"), ("-2", "expected 0 or more")],
)
def test_movielens_ratings_refuse_out_of_range_and_negative_ids(tmp_path, value, problem):
    path = tmp_path / "ratings.csv"
    path.write_text(f"userId,movieId,rating,timestamp\n1,2,3.5,964982703\n{value},2,4,964982704\n")

    with pytest.raises(InvalidInputError) as error:
        load_ratings(path)

    assert str(error.value).startswith(f"{path}: line 3: column 'userId' is ")
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [(TWENTY_THREE_DIGITS, "outside the 64-bit integer range"), ("-5", "expected 0 or more")],
)
def test_instacart_order_products_refuse_out_of_range_and_negative_ids(tmp_path, value, problem):
    path = tmp_path / "order_products__prior.csv"
    path.write_text(f"order_id,product_id,add_to_cart_order,reordered\n1,5,1,0\n1,{value},2,0\n")

    with pytest.raises(InvalidInputError) as error:
        load_order_products(path)

    assert str(error.value).startswith(f"{path}: line 3: column 'product_id' is ")
    assert problem in str(error.value)


def test_the_tweet_truth_file_refuses_a_negative_tweet_id():
    with pytest.raises(InvalidInputError, match=r"truth.csv: line 3: column 'tweet_id' is -9"):
        parse_truth(b"tweet_id,is_ai\n5,1\n-9,0\n", "truth.csv")
