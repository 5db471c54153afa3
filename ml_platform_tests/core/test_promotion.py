"""A promoted asset takes a candidate only when its latest materialization was judged by the
blocking check and did not fail it with ERROR severity — whatever launched the promotion (tiny
assets on a real Dagster instance; the tweet product's own graph is in tweets/test_promotion.py)."""

import dagster as dg
import pytest

from ml_platform.core import promotion

CHECK = "good_enough"


class Verdict(dg.Config):
    passed: bool = True
    severity: str = "ERROR"


@dg.multi_asset(
    specs=[dg.AssetSpec("candidate")],
    check_specs=[dg.AssetCheckSpec(CHECK, asset="candidate", blocking=True)],
    can_subset=True,  # so a run can materialize it without its check
)
def candidate(context: dg.AssetExecutionContext, config: Verdict):
    yield dg.MaterializeResult(asset_key="candidate")
    if context.selected_asset_check_keys:
        yield dg.AssetCheckResult(
            check_name=CHECK,
            passed=config.passed,
            severity=dg.AssetCheckSeverity(config.severity),
        )


@dg.asset(deps=[candidate])
def promoted(context: dg.AssetExecutionContext) -> None:
    promotion.require_promotable(context, "candidate", [CHECK])


def train(instance, *, with_check: bool = True, **verdict) -> None:
    selection = dg.AssetSelection.assets(candidate)
    dg.materialize(
        [candidate, promoted],
        instance=instance,
        selection=selection if with_check else selection.without_checks(),
        run_config={"ops": {"candidate": {"config": verdict}}},
        raise_on_error=False,  # a failed blocking check fails the step, as it should
    )


def promote(instance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [candidate, promoted], instance=instance, selection=[promoted], raise_on_error=False
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    (event,) = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.error.message


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_nothing_to_promote_before_a_candidate(instance):
    assert "has never been materialized" in failure(promote(instance))


def test_a_failed_candidate_is_refused_and_a_later_passing_one_promoted(instance):
    train(instance, passed=False)
    assert "failed good_enough" in failure(promote(instance))
    train(instance, passed=True)
    assert promote(instance).success


def test_a_warning_does_not_block_promotion_as_it_does_not_block_a_run(instance):
    train(instance, passed=False, severity="WARN")
    assert promote(instance).success


def test_a_candidate_its_check_never_judged_is_refused(instance):
    train(instance, passed=True)
    train(instance, with_check=False)  # a newer candidate, not judged
    assert "did not judge the latest candidate" in failure(promote(instance))


batches = dg.StaticPartitionsDefinition(["batch-1"])


@dg.asset(partitions_def=batches, deps=[candidate])
def scored() -> None:
    """A partitioned asset downstream: a run of its job checks the candidate in a partition."""


def test_a_candidate_checked_in_a_partitioned_run_is_promoted(instance):
    job = dg.define_asset_job("batch_job", partitions_def=batches)
    defs = dg.Definitions(assets=[candidate, promoted, scored], jobs=[job])
    trained = defs.resolve_job_def("batch_job").execute_in_process(
        instance=instance,
        partition_key="batch-1",
        run_config={"ops": {"candidate": {"config": {"passed": True}}}},
    )
    assert trained.success
    assert promote(instance).success
