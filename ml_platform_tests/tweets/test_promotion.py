"""Candidate → promoted: a classifier that fails its blocking check never reaches the promoted
`tweet_classifier`, the TF-Serving export or live classification — not in the run that trained
it, not by declarative automation afterwards, not when someone materializes the promoted asset
by hand. A candidate that passes is promoted by automation, and classification follows it.

Generated stream, SQLite warehouse, local object store, a real Dagster instance. The failing
candidate is a genuinely bad model: trained for zero epochs (the untrained network), so its F1
on the golden test labels cannot beat the label model's.
"""

import dagster as dg
import pytest

from ml_platform.core import runs
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.tweets import definitions, tables
from ml_platform.tweets.assets import CANDIDATE, CLASSIFIER_CHECK, PROMOTED
from ml_platform.tweets.resources import SERVING_EXPORTS, TweetsSettings

SMALL = {
    "generated_tweets": 2500,
    "test_size": 200,
    "dev_size": 100,
    "snorkel_train_size": 600,
}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def build(settings: TweetsSettings, store: ObjectStore, warehouse: Warehouse) -> dg.Definitions:
    return dg.Definitions.merge(
        definitions.build_definitions(settings),
        dg.Definitions(
            resources={
                "io_manager": ObjectStoreIOManager(store=store),
                "object_store": store,
                "warehouse": warehouse,
                "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
            }
        ),
    )


def exported_versions(store: ObjectStore) -> list[str]:
    base = store.path(SERVING_EXPORTS)
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


def materialized(instance: dg.DagsterInstance, name: str) -> bool:
    return instance.get_latest_materialization_event(dg.AssetKey(name)) is not None


def requested_assets(
    defs: dg.Definitions, evaluated: dg.EvaluateAutomationConditionsResult
) -> set[str]:
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {key.to_user_string() for key in keys if evaluated.get_num_requested(key)}


@pytest.fixture
def platform(tmp_path):
    store = ObjectStore(base_uri=str(tmp_path / "store"))
    warehouse = Warehouse(url=f"sqlite:///{tmp_path / 'warehouse.db'}")
    with dg.instance_for_test() as instance:
        yield store, warehouse, instance


def test_a_failed_candidate_is_never_promoted_and_a_passing_one_is_by_automation(platform):
    store, warehouse, instance = platform
    untrained = build(TweetsSettings(**SMALL, max_epochs=0), store, warehouse)

    run = untrained.resolve_job_def("tweets_job").execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET
    )

    (check,) = [c for c in run.get_asset_check_evaluations() if c.check_name == CLASSIFIER_CHECK]
    assert not check.passed
    assert check.metadata["f1"].value <= check.metadata["label_model_f1"].value
    assert materialized(instance, CANDIDATE)
    # the blocking check stopped everything downstream in the same run
    for name in (PROMOTED, "classified_tweets", "ai_tweets", "tweet_urls"):
        assert not materialized(instance, name), name
    assert exported_versions(store) == []
    assert not store.path(PROMOTED).exists()  # nothing for serving to load

    # automation does not promote it later, nor classify with it
    evaluated = dg.evaluate_automation_conditions(defs=untrained, instance=instance)
    assert evaluated.total_requested == 0

    # nor does materializing the promoted asset by hand
    by_hand = untrained.resolve_job_def("tweets_job").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(PROMOTED)], raise_on_error=False
    )
    assert not by_hand.success
    (failure,) = [e for e in by_hand.all_events if e.is_step_failure]
    assert "not promoted" in failure.step_failure_data.error.message
    assert f"failed {CLASSIFIER_CHECK}" in failure.step_failure_data.error.message
    assert not materialized(instance, PROMOTED) and exported_versions(store) == []

    # a candidate that passes (trained this time), alone, as a person would from the UI ...
    trained = build(TweetsSettings(**SMALL, max_epochs=8), store, warehouse)
    retrain = trained.resolve_job_def("tweets_retrain_job").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(CANDIDATE)], run_config=QUIET
    )
    assert all(c.passed for c in retrain.get_asset_check_evaluations())
    # ... is promoted by automation on the next evaluation, and classification follows it in
    # the same requested run (what a daemon tick would launch)
    evaluated = dg.evaluate_automation_conditions(
        defs=trained, instance=instance, cursor=evaluated.cursor
    )
    requested = requested_assets(trained, evaluated)
    assert requested == {PROMOTED, "classified_tweets", "ai_tweets", "tweet_urls"}
    automated = trained.resolve_job_def("tweets_job").execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(name) for name in sorted(requested)],
        run_config=QUIET,
    )
    metadata = runs.materialized(automated)
    # the failed candidate's version number is not reused for another model
    assert metadata[PROMOTED]["model_version"] == 2 and exported_versions(store) == ["2"]
    assert store.read_value(PROMOTED).version == 2
    classified = tables.read_rows(warehouse, TweetsSettings(**SMALL).tables().classified)
    assert len(classified) == 2500 and set(classified["model_version"]) == {2}
    assert metadata["classified_tweets"]["model_version"] == 2
    # and, once done, nothing more is asked for
    again = dg.evaluate_automation_conditions(
        defs=trained, instance=instance, cursor=evaluated.cursor
    )
    assert again.total_requested == 0
