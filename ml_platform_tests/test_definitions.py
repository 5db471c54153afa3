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
    "em_promoted_model",
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
    sensors = {s.name for s in repository.sensor_defs}
    assert {name for name in sensors if name.startswith("em_")} == {
        "em_new_records_sensor",
        "em_feedback_sensor",
        "em_automation_sensor",
    }
    assert {s.name for s in repository.schedule_defs} == {"em_nightly_schedule"}


# The main assets of each product as docs/architecture.md names them: a newcomer finds them there.
PRODUCT_ASSETS = {
    "recommender": {"ratings", "movies", "ratings_split", "retrieval_model", "candidate_index",
                    "ranking_model", "recommendations"},
    "similar_users": {"course_tags", "user_assessment_scores", "user_course_views",
                      "user_interests", "user_embeddings", "user_display"},
    "prod2vec": {"orders", "order_products", "products", "baskets", "skipgram_pairs",
                 "prod2vec_hyperparameters", "prod2vec_tuning_analysis", "prod2vec_model",
                 "product_vectors", "similar_products"},
    "tweets": {"raw_tweets", "deduplicated_tweets", "tweet_splits", "weak_labels",
               "golden_labels", "labeller_evaluation", "tweet_classifier_candidate",
               "tweet_classifier", "classified_tweets", "ai_tweets", "tweet_urls"},
}  # fmt: skip


def test_every_product_is_a_group_with_its_main_assets_and_a_job():
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    jobs = {job.name for job in repository.get_all_jobs()}
    for group, expected in PRODUCT_ASSETS.items():
        assets = {
            key.to_user_string()
            for key in graph.get_all_asset_keys()
            if graph.get(key).group_name == group
        }
        assert expected <= assets, (group, expected - assets)
        assert f"{group}_job" in jobs


def test_definitions_validate_like_dagster_does():
    dg.Definitions.validate_loadable(defs)


def test_every_automated_asset_is_evaluated_by_a_running_automation_sensor():
    """An automation condition does nothing unless an automation condition sensor evaluates it:
    each one is targeted by such a sensor that runs without a click, and no asset sensor
    launches what automation now follows."""
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    automated = {key for key in graph.get_all_asset_keys() if graph.get(key).automation_condition}
    sensors = [
        sensor
        for sensor in repository.sensor_defs
        if isinstance(sensor, dg.AutomationConditionSensorDefinition)
    ]
    running = set().union(
        *(
            sensor.asset_selection.resolve(graph)
            for sensor in sensors
            if sensor.default_status == dg.DefaultSensorStatus.RUNNING
        )
    )
    assert {"tweet_classifier", "classified_tweets"} <= {k.to_user_string() for k in automated}
    assert automated <= running, sorted(k.to_user_string() for k in automated - running)
    names = {sensor.name for sensor in repository.sensor_defs}
    assert "tweets_new_model_sensor" not in names
