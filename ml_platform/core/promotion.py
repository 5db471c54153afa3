"""Candidate → promoted: a trained model reaches what serves it only through a promoted asset
that materializes when the candidate's blocking checks passed.

Inside one run Dagster's blocking checks already skip everything downstream of a failed
candidate. A promoted asset can also be materialized on its own, though — from the UI, a
sensor's run request or declarative automation after a retrain — so it asks the event log again
(`refusal`): only a candidate whose latest materialization every named check judged, and did not
fail with ERROR severity (what blocks in a run too; a WARN is reported, not blocking), may be
promoted; otherwise the promoted asset fails (`require_promotable`) and the model promoted
before stays.
"""

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

# Follow the candidate: after each new candidate whose blocking checks passed, promote it (and
# never one whose blocking check failed: `eager()` alone would not look at checks).
FOLLOWS_PASSED_CANDIDATE = (
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
)


def promoted_asset(
    name: str, group: str, kind: str
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """The decorator of a product's promoted-model asset: follows its candidate by automation
    (the product's automation sensor evaluates it), and its body calls `require_promotable`."""
    return dg.asset(
        name=name,
        group_name=group,
        kinds={kind},
        automation_condition=FOLLOWS_PASSED_CANDIDATE,
    )


def refusal(
    instance: dg.DagsterInstance, candidate: dg.AssetKey, check_names: Sequence[str]
) -> str | None:
    """Why the candidate's latest materialization may not be promoted, or None when it may."""
    name = candidate.to_user_string()
    materialization = instance.get_latest_materialization_event(candidate)
    if materialization is None:
        return f"{name} has never been materialized"
    for check_name in check_names:
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(candidate, check_name)
        )
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        if evaluation is None:
            return f"{check_name} has not judged {name} (run {materialization.run_id}) yet"
        target = evaluation.target_materialization_data
        # An unpartitioned candidate checked in a partitioned run (entity matching retrains in
        # an import batch's run) gets no target recorded: the check's own run says which one.
        judged_run = target.run_id if target is not None else record.run_id
        if judged_run != materialization.run_id:
            return f"{check_name} did not judge the latest {name} (run {materialization.run_id})"
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            figures = {key: value.value for key, value in evaluation.metadata.items()}
            return f"{name} (run {materialization.run_id}) failed {check_name}: {figures}"
    return None


def require_promotable(
    context: dg.AssetExecutionContext, candidate: str, check_names: Sequence[str]
) -> str:
    """Raise `dg.Failure` (the step fails, nothing is stored) unless `candidate` may be promoted;
    otherwise the run id of the candidate promoted, for the promoted asset's metadata."""
    key = dg.AssetKey(candidate)
    reason = refusal(context.instance, key, check_names)
    if reason is not None:
        raise dg.Failure(f"not promoted: {reason}; the model promoted before stays")
    return context.instance.get_latest_materialization_event(key).run_id
