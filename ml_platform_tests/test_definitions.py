"""The code location `dagster dev` loads: everything a user looks for is there."""

import dagster as dg

from ml_platform.definitions import defs

EM_ASSETS = {
    "em_sources",
    "em_targets",
    "em_feedback",
    "em_target_blocks",
    "em_unmatched_sources",
    "em_source_blocks",
    "em_candidate_pairs",
    "em_features",
    "em_model",
    "em_scores",
    "em_matches",
    "em_review_queue",
}


def test_the_entity_matching_group_has_its_assets_checks_sensors_and_schedule():
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    group = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == "entity_matching"
    }
    assert group == EM_ASSETS
    checks = {key.name for key in graph.asset_check_keys}
    assert {
        "em_sources_are_valid",
        "em_matches_are_exportable",
        "em_model_meets_quality_floors",
    } <= checks
    assert {s.name for s in repository.sensor_defs} == {
        "em_new_records_sensor",
        "em_feedback_sensor",
    }
    assert {s.name for s in repository.schedule_defs} == {"em_nightly_schedule"}


def test_definitions_validate_like_dagster_does():
    dg.Definitions.validate_loadable(defs)
