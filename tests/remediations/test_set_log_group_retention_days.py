"""ASR-SetLogGroupRetentionDays: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import pytest

from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.set_log_group_retention_days import (
    RemediationError,
    retention_at_least,
    set_log_group_retention_days,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION

DOC = "SetLogGroupRetentionDays"


def group_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:logs:{REGION}:{account}:log-group:{name}:*"


def retention(logs, name: str) -> int | None:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next(g.get("retentionInDays") for g in groups if g["logGroupName"] == name)


# --- script --------------------------------------------------------------------


@pytest.mark.parametrize(("asked", "used"), [(1, 1), (100, 120), (365, 365), (366, 400), (3653, 3653)])
def test_retention_rounds_up_to_an_accepted_value(asked, used):
    assert retention_at_least(asked) == used


def test_retention_out_of_range_names_the_input():
    with pytest.raises(RemediationError, match="RetentionDays 4000"):
        retention_at_least(4000)


def test_raises_retention_of_the_named_group_only(logs):
    logs.create_log_group(logGroupName="target")
    logs.put_retention_policy(logGroupName="target", retentionInDays=7)
    logs.create_log_group(logGroupName="target-bystander")
    logs.put_retention_policy(logGroupName="target-bystander", retentionInDays=7)

    out = set_log_group_retention_days({"LogGroupArn": group_arn("target"), "RetentionDays": 365}, None)

    assert retention(logs, "target") == 365
    assert retention(logs, "target-bystander") == 7
    assert out["RetentionBefore"] == "7" and out["RetentionAfter"] == "365"


def test_never_lowers_a_longer_retention(logs):
    logs.create_log_group(logGroupName="long")
    logs.put_retention_policy(logGroupName="long", retentionInDays=731)
    out = set_log_group_retention_days({"LogGroupArn": group_arn("long"), "RetentionDays": 365}, None)
    assert retention(logs, "long") == 731
    assert "nothing changed" in out["Message"]


def test_group_in_another_account_is_refused(logs):
    with pytest.raises(RemediationError, match=f"belongs to account {OTHER_ACCOUNT}"):
        set_log_group_retention_days({"LogGroupArn": group_arn("x", OTHER_ACCOUNT), "RetentionDays": 365}, None)


# --- document ------------------------------------------------------------------


def test_document_sets_retention_and_leaves_the_rest(run_runbook, logs_doc):
    logs_doc.create_log_group(logGroupName="/app/audit", tags={"team": "sec"})
    logs_doc.put_retention_policy(logGroupName="/app/audit", retentionInDays=14)
    logs_doc.create_log_group(logGroupName="/app/other")
    logs_doc.put_retention_policy(logGroupName="/app/other", retentionInDays=14)
    logs_doc.put_metric_filter(
        logGroupName="/app/audit", filterName="f", filterPattern="ERROR",
        metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
    )

    execution = run_runbook(DOC, LogGroupArn=group_arn("/app/audit"))

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert retention(logs_doc, "/app/audit") == 365
    assert retention(logs_doc, "/app/other") == 14
    assert logs_doc.list_tags_log_group(logGroupName="/app/audit")["tags"] == {"team": "sec"}
    assert len(logs_doc.describe_metric_filters(logGroupName="/app/audit")["metricFilters"]) == 1
    assert execution["Outputs"]["SetRetention.Output"]


def test_document_second_run_changes_nothing(run_runbook, logs_doc):
    logs_doc.create_log_group(logGroupName="g")
    logs_doc.put_retention_policy(logGroupName="g", retentionInDays=30)
    first = run_runbook(DOC, LogGroupArn=group_arn("g"), RetentionDays=100)
    second = run_runbook(DOC, LogGroupArn=group_arn("g"), RetentionDays=100)
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert retention(logs_doc, "g") == 120
    assert "nothing changed" in str(second["Outputs"])


def test_document_leaves_a_never_expiring_group_alone(run_runbook, logs_doc):
    logs_doc.create_log_group(logGroupName="forever")
    execution = run_runbook(DOC, LogGroupArn=group_arn("forever"))
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert retention(logs_doc, "forever") is None
    assert "nothing changed" in str(execution["Outputs"])


def test_document_rejects_a_malformed_arn(run_runbook, logs_doc):
    with pytest.raises(ParameterValidationError, match="LogGroupArn"):
        run_runbook(DOC, LogGroupArn="arn:aws:s3:::my-bucket")


def test_document_rejects_an_unaccepted_retention(run_runbook, logs_doc):
    logs_doc.create_log_group(logGroupName="g")
    with pytest.raises(ParameterValidationError, match="RetentionDays"):
        run_runbook(DOC, LogGroupArn=group_arn("g"), RetentionDays=5000)
    assert retention(logs_doc, "g") is None


def test_document_fails_on_a_missing_group_and_changes_nothing(run_runbook, logs_doc):
    logs_doc.create_log_group(logGroupName="present")
    execution = run_runbook(DOC, LogGroupArn=group_arn("absent"))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"LogGroupArn {group_arn('absent')}: no such log group" in execution["FailureMessage"]
    assert retention(logs_doc, "present") is None
