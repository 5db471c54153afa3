"""Data-quality checks on the entity-matching assets (great-expectations, via core.checks).

Checks on the imported records and on the export are blocking: a batch with broken ids must not
reach blocking, and a malformed match table must not be exported.
"""

from ml_platform.core.checks import expect, expectation_check
from ml_platform.entity_matching import assets

RECORD_EXPECTATIONS = [
    expect("column_values_to_not_be_null", column="id"),
    expect("column_values_to_be_unique", column="id"),
]

em_sources_are_valid = expectation_check(
    asset=assets.em_sources,
    name="em_sources_are_valid",
    expectations=RECORD_EXPECTATIONS,
    blocking=True,
    description="Ids present and unique: otherwise pairs and matches are ambiguous.",
)
em_targets_are_valid = expectation_check(
    asset=assets.em_targets,
    name="em_targets_are_valid",
    expectations=RECORD_EXPECTATIONS,
    blocking=True,
    description="Ids present and unique: otherwise pairs and matches are ambiguous.",
)
em_feedback_is_valid = expectation_check(
    asset=assets.em_feedback,
    name="em_feedback_is_valid",
    blocking=True,
    expectations=[
        expect("column_values_to_be_in_set", column="label", value_set=[0, 1]),
        expect("compound_columns_to_be_unique", column_list=["source_id", "target_id"]),
        expect("column_values_to_not_be_null", column="source_id"),
        expect("column_values_to_not_be_null", column="target_id"),
    ],
    description="Labels are 0/1 and each pair has one current label: they steer the model.",
)
em_candidate_pairs_are_unique = expectation_check(
    asset=assets.em_candidate_pairs,
    name="em_candidate_pairs_are_unique",
    expectations=[expect("compound_columns_to_be_unique", column_list=["source_id", "target_id"])],
    description="A pair found by several blocking keys is still scored once.",
)
em_matches_are_exportable = expectation_check(
    asset=assets.em_matches,
    name="em_matches_are_exportable",
    blocking=True,
    expectations=[
        expect("column_values_to_be_unique", column="source_id"),
        expect("column_values_to_not_be_null", column="target_id"),
        expect("column_values_to_be_between", column="score", min_value=0.0, max_value=1.0),
    ],
    description="One target per source with a probability score: what consumers of the export rely on.",
)

ALL_CHECKS = [
    em_sources_are_valid,
    em_targets_are_valid,
    em_feedback_is_valid,
    em_candidate_pairs_are_unique,
    em_matches_are_exportable,
]
