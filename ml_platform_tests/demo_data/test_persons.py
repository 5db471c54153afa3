import numpy as np
import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.demo_data.persons import generate_person_records, write_person_dataset
from ml_platform.entity_matching.records import load_feedback, load_records
from ml_platform.entity_matching.schema import load_schema

# Measured on the public FEBRL4 data (dataset4a originals vs dataset4b duplicates): share of
# duplicates whose field differs from the original.
FEBRL4_DIFFER_RATES = {
    "given_name": 0.32, "surname": 0.33, "street_number": 0.16, "address_1": 0.38,
    "address_2": 0.43, "suburb": 0.25, "postcode": 0.16, "state": 0.05,
    "date_of_birth": 0.09, "soc_sec_id": 0.09,
}  # fmt: skip
FEBRL4_ORIGINAL_MISSING = {
    "given_name": 0.022, "surname": 0.01, "street_number": 0.032, "address_1": 0.02,
    "address_2": 0.084, "suburb": 0.011, "state": 0.01, "date_of_birth": 0.019,
}  # fmt: skip
COLUMNS = list(FEBRL4_DIFFER_RATES)


@pytest.fixture(scope="module")
def dataset():
    return generate_person_records(4_000, 4_000, seed=7)


@pytest.fixture(scope="module")
def matched_pairs(dataset):
    """Each true match as one row: target columns suffixed _t, source columns _s."""
    targets = dataset.targets.set_index("id").add_suffix("_t")
    sources = dataset.sources.set_index("id").add_suffix("_s")
    pairs = dataset.truth.join(sources, on="source_id").join(targets, on="target_id")
    return pairs.fillna("")


def test_the_same_seed_gives_the_same_dataset_and_another_seed_another():
    first = generate_person_records(500, 400, seed=3)
    again = generate_person_records(500, 400, seed=3)
    other = generate_person_records(500, 400, seed=4)

    for part in ("targets", "sources", "truth", "feedback"):
        pd.testing.assert_frame_equal(getattr(first, part), getattr(again, part))
    assert not first.sources.equals(other.sources)


def test_sizes_follow_the_arguments(dataset):
    assert len(dataset.targets) == 4_000
    assert len(dataset.sources) == 4_000
    assert len(dataset.truth) == 3_200  # match_share 0.8
    assert len(dataset.feedback) == 200
    assert dataset.feedback["label"].value_counts().to_dict() == {1: 100, 0: 100}


def test_records_have_the_febrl_columns_zero_padded_ids_and_increasing_modified_at(dataset):
    for records, prefix in ((dataset.targets, "t"), (dataset.sources, "s")):
        assert list(records.columns) == ["id", *COLUMNS, "modified_at"]
        assert records["id"].str.fullmatch(prefix + r"[0-9]{7}").all()
        assert records["id"].is_monotonic_increasing and records["id"].is_unique
        assert records["modified_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
        assert records["modified_at"].is_monotonic_increasing


def test_truth_is_one_to_one_between_existing_records(dataset):
    truth = dataset.truth

    assert truth["source_id"].is_unique and truth["target_id"].is_unique
    assert truth["source_id"].isin(dataset.sources["id"]).all()
    assert truth["target_id"].isin(dataset.targets["id"]).all()


def test_source_ids_give_no_hint_of_their_target(dataset):
    ranks = dataset.truth.rank()

    assert abs(ranks["source_id"].corr(ranks["target_id"])) < 0.1


def test_every_person_is_unique_in_name_birth_date_and_social_security_id(dataset):
    targets = dataset.targets

    assert targets["soc_sec_id"].is_unique
    assert not targets.duplicated(["given_name", "surname", "date_of_birth", "soc_sec_id"]).any()


def test_population_has_look_alikes_that_make_matching_hard(dataset):
    targets = dataset.targets
    households = targets.dropna(subset=["surname", "address_1", "suburb"])

    assert targets["surname"].value_counts(normalize=True).iloc[0] > 0.01  # common surnames
    assert targets["date_of_birth"].duplicated().sum() > 100  # shared birthdays
    assert households.duplicated(["surname", "address_1", "suburb"]).mean() > 0.1
    new_people = dataset.sources[~dataset.sources["id"].isin(dataset.truth["source_id"])]
    family = new_people.merge(targets[["surname", "suburb"]].drop_duplicates())
    assert len(family) / len(new_people) > 0.1


def test_postcode_and_state_agree_across_the_population(dataset):
    places = dataset.targets.dropna(subset=["state"])

    assert (places.groupby("postcode")["state"].nunique() == 1).all()
    assert places["postcode"].str.fullmatch(r"[0-9]{4}").all()


def test_originals_miss_values_at_febrl_rates(dataset):
    missing = dataset.targets[list(FEBRL4_ORIGINAL_MISSING)].isna().mean()

    for column, rate in FEBRL4_ORIGINAL_MISSING.items():
        assert missing[column] == pytest.approx(rate, abs=0.02), column


def test_each_field_differs_between_matched_records_as_often_as_in_febrl4(matched_pairs):
    for column, rate in FEBRL4_DIFFER_RATES.items():
        differ = (matched_pairs[f"{column}_s"] != matched_pairs[f"{column}_t"]).mean()
        assert differ == pytest.approx(rate, abs=0.08), column


def test_matched_records_differ_in_two_fields_on_average_and_never_in_none(matched_pairs):
    differing = sum(
        (matched_pairs[f"{c}_s"] != matched_pairs[f"{c}_t"]).astype(int) for c in COLUMNS
    )

    assert 2.0 <= differing.mean() <= 2.7
    assert differing.min() >= 1


def test_a_few_percent_of_matches_have_given_name_and_surname_swapped(matched_pairs):
    swapped = (
        (matched_pairs["given_name_s"] == matched_pairs["surname_t"])
        & (matched_pairs["surname_s"] == matched_pairs["given_name_t"])
        & (matched_pairs["given_name_t"] != matched_pairs["surname_t"])
    )

    assert 0.02 <= swapped.mean() <= 0.07


def test_corrupted_dates_keep_their_eight_digit_shape(matched_pairs):
    dates = matched_pairs["date_of_birth_s"]

    assert dates[dates != ""].str.fullmatch(r"19[0-9]{6}").all()


def test_feedback_labels_agree_with_the_truth_and_non_matches_look_alike(dataset):
    feedback = dataset.feedback.merge(dataset.truth, how="left", indicator=True)
    is_true_pair = feedback["_merge"] == "both"
    assert (is_true_pair == (feedback["label"] == 1)).all()

    non_matches = dataset.feedback[dataset.feedback["label"] == 0]
    sources = dataset.sources.set_index("id")
    targets = dataset.targets.set_index("id")
    same_surname = (
        sources.loc[non_matches["source_id"], "surname"].to_numpy()
        == targets.loc[non_matches["target_id"], "surname"].to_numpy()
    )
    assert same_surname.mean() > 0.5


def test_written_files_load_back_with_the_default_schema(dataset, tmp_path):
    paths = write_person_dataset(tmp_path, dataset)
    schema = load_schema()

    targets = load_records(paths["targets"], schema)
    sources = load_records(paths["sources"], schema)
    feedback = load_feedback(paths["feedback"], set(sources["id"]), set(targets["id"]))

    pd.testing.assert_frame_equal(targets, dataset.targets)
    pd.testing.assert_frame_equal(sources, dataset.sources)
    pd.testing.assert_frame_equal(feedback, dataset.feedback)
    pd.testing.assert_frame_equal(pd.read_csv(paths["truth"], dtype=str), dataset.truth)


def test_more_matches_than_targets_is_an_error():
    with pytest.raises(InvalidInputError, match="one-to-one"):
        generate_person_records(10, 100, match_share=0.5)


def test_large_populations_draw_from_a_long_tail_of_names():
    targets = generate_person_records(50_000, 0, seed=1).targets

    assert targets["surname"].nunique() > 10_000
    pairs = targets[["given_name", "surname"]].dropna()
    assert 1 - pairs.duplicated().mean() > 0.85
    assert np.isin(["nsw", "vic", "qld"], targets["state"].unique()).all()
