"""The CloudFormation parameter surface users deploy with: names, defaults, constraints, groups."""

from __future__ import annotations

import json
import re

import pytest

from asr import solution
from tests.infrastructure.conftest import by_stack

PLAYBOOKS = ["SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321"]


def _params(templates, stack):
    return by_stack(templates, stack)["Parameters"]


def _groups(templates, stack):
    meta = by_stack(templates, stack)["Metadata"]["AWS::CloudFormation::Interface"]
    return [(g["Label"]["default"], g["Parameters"]) for g in meta["ParameterGroups"]]


def test_admin_has_exactly_the_reference_parameters(templates):
    params = _params(templates, solution.ADMIN_STACK)
    expected = {f"Load{k}AdminStack" for k in PLAYBOOKS} | {
        "ReuseOrchestratorLogGroup",
        "UseCloudWatchMetrics",
        "UseCloudWatchMetricsAlarms",
        "RemediationFailureAlarmThreshold",
        "EnableEnhancedCloudWatchMetrics",
        "TicketGenFunctionName",
        "TargetAccountIDs",
        "TargetAccountIDsStrategy",
    }
    # the reference's 15, and the threshold of the state-machine executions alarm the guide documents
    # ... and the retention of the remediation history (docs/history.md)
    added = {"StateMachineExecutionsAlarmThreshold", "RemediationHistoryRetentionDays"}
    # ... and where the remediation policy is (docs/policy.md; blank: no policy)
    added |= {"RemediationPolicyBucket", "RemediationPolicyKey"}
    assert set(params) == expected | added and len(params) == 19


@pytest.mark.parametrize(
    ("name", "default", "allowed"),
    [
        ("LoadSCAdminStack", "yes", ["yes", "no"]),
        *[(f"Load{k}AdminStack", "no", ["yes", "no"]) for k in PLAYBOOKS if k != "SC"],
        ("ReuseOrchestratorLogGroup", "no", ["yes", "no"]),
        ("UseCloudWatchMetrics", "yes", ["yes", "no"]),
        ("UseCloudWatchMetricsAlarms", "yes", ["yes", "no"]),
        ("EnableEnhancedCloudWatchMetrics", "no", ["yes", "no"]),
        ("TargetAccountIDsStrategy", "INCLUDE", ["INCLUDE", "EXCLUDE"]),
    ],
)
def test_admin_choice_parameters(templates, name, default, allowed):
    param = _params(templates, solution.ADMIN_STACK)[name]
    assert param["Default"] == default
    assert param["AllowedValues"] == allowed


def test_admin_free_form_parameters(templates):
    params = _params(templates, solution.ADMIN_STACK)
    assert params["RemediationFailureAlarmThreshold"]["Type"] == "Number"
    assert params["RemediationFailureAlarmThreshold"]["Default"] == "5"
    assert params["TicketGenFunctionName"]["Default"] == ""
    assert params["TicketGenFunctionName"]["AllowedPattern"] == r"^$|^([a-zA-Z0-9\-_]{1,64})?$"
    assert params["TargetAccountIDs"]["Default"] == "ALL"
    assert params["TargetAccountIDs"]["AllowedPattern"] == r"^(ALL|\d{12}(,\s*\d{12})*)$"
    assert params["TargetAccountIDs"]["MaxLength"] == 3360
    # blank (the default) is no policy: ASR as before
    assert params["RemediationPolicyBucket"]["Default"] == params["RemediationPolicyKey"]["Default"] == ""


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("RemediationPolicyBucket", "", True),
        ("RemediationPolicyBucket", "asr-policy-123456789012", True),
        ("RemediationPolicyBucket", "Bad_Bucket", False),
        ("RemediationPolicyBucket", "ab", False),
        ("RemediationPolicyKey", "", True),
        ("RemediationPolicyKey", "asr/policy.yaml", True),
        ("RemediationPolicyKey", " leading-space", False),
        ("RemediationPolicyKey", "k" * 1016, False),
    ],
)
def test_policy_location_patterns(templates, name, value, ok):
    pattern = _params(templates, solution.ADMIN_STACK)[name]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_the_policy_read_grant_is_one_object_and_only_with_a_policy(templates):
    """s3:GetObject on <bucket>/<key>.json, in a policy that exists only when both parameters are set."""
    template = by_stack(templates, solution.ADMIN_STACK)
    [(logical_id, grant)] = [
        (k, r)
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Policy" and "RemediationPolicyRead" in k
    ]
    condition = template["Conditions"][grant["Condition"]]
    assert json.dumps(condition).count('"Ref": "RemediationPolicy') == 2
    [statement] = grant["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:GetObject" and statement["Effect"] == "Allow"
    resource = json.dumps(statement["Resource"])
    assert '{"Ref": "RemediationPolicyBucket"}' in resource and '{"Ref": "RemediationPolicyKey"}' in resource
    assert resource.endswith('".json"]]}') and "*" not in resource, resource
    env = next(
        r["Properties"]["Environment"]["Variables"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("FunctionName") == solution.RESOLVE_FUNCTION
    )
    assert env[solution.POLICY_BUCKET_ENV] == {"Ref": "RemediationPolicyBucket"}
    assert env[solution.POLICY_KEY_ENV] == {"Ref": "RemediationPolicyKey"}
    assert logical_id


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ALL", True),
        ("123456789012", True),
        ("123456789012,210987654321", True),
        ("123456789012, 210987654321", True),
        ("all", False),
        ("12345678901", False),
        ("123456789012,", False),
        ("ALL,123456789012", False),
    ],
)
def test_target_accounts_pattern(templates, value, ok):
    pattern = _params(templates, solution.ADMIN_STACK)["TargetAccountIDs"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_admin_console_groups(templates):
    assert _groups(templates, solution.ADMIN_STACK) == [
        ("Consolidated Control Findings Playbook", ["LoadSCAdminStack"]),
        (
            "Security Standard Playbooks",
            sorted(f"Load{k}AdminStack" for k in PLAYBOOKS if k != "SC"),
        ),
        ("Orchestrator Configuration", ["ReuseOrchestratorLogGroup", "RemediationHistoryRetentionDays"]),
        (
            "CloudWatch Metrics",
            ["UseCloudWatchMetrics", "UseCloudWatchMetricsAlarms", "StateMachineExecutionsAlarmThreshold"],
        ),
        (
            "(Optional) Enhanced CloudWatch Metrics",
            ["EnableEnhancedCloudWatchMetrics", "RemediationFailureAlarmThreshold"],
        ),
        ("(Optional) Ticketing Service Integration", ["TicketGenFunctionName"]),
        ("(Optional) Target accounts", ["TargetAccountIDs", "TargetAccountIDsStrategy"]),
        ("(Optional) Remediation policy", ["RemediationPolicyBucket", "RemediationPolicyKey"]),
    ]


def test_admin_conditions(templates):
    conditions = by_stack(templates, solution.ADMIN_STACK)["Conditions"]
    expected = {
        "isUsingCloudWatchMetrics",
        "isUsingCloudWatchMetricsAlarms",
        "enhancedMetricsEnabled",
        "enhancedAlarmsEnabled",
        "orchestratorTicketingEnabledCondition",
        *(f"load{k}Cond" for k in PLAYBOOKS),
    }
    assert expected <= set(conditions)
    assert conditions["loadSCCond"] == {"Fn::Equals": [{"Ref": "LoadSCAdminStack"}, "yes"]}


def test_member_has_exactly_the_reference_parameters(templates):
    params = _params(templates, solution.MEMBER_STACK)
    expected = {f"Load{k}MemberStack" for k in PLAYBOOKS} | {
        "LogGroupName",
        "CreateS3BucketForRedshiftAuditLogging",
        "SecHubAdminAccount",
        "Namespace",
        "EnableCloudTrailForASRActionLog",
        "RemediationKeyMode",  # ours (docs/encryption.md)
        "RemediationKeyArn",
        "ActionLogRegion",  # ours (docs/action-log.md)
    }
    assert set(params) == expected and len(params) == 15
    assert "Default" not in params["LogGroupName"]
    assert "Default" not in params["SecHubAdminAccount"] and "Default" not in params["Namespace"]
    assert params["LoadSCMemberStack"]["Default"] == "yes"
    assert all(params[f"Load{k}MemberStack"]["Default"] == "no" for k in PLAYBOOKS if k != "SC")
    assert params["CreateS3BucketForRedshiftAuditLogging"]["Default"] == "no"
    assert params["EnableCloudTrailForASRActionLog"]["Default"] == "no"


def test_member_console_groups(templates):
    assert [label for label, _ in _groups(templates, solution.MEMBER_STACK)] == [
        "LogGroup Configuration",
        "Consolidated control finding Playbook",
        "Security Standard Playbooks",
        "Configuration",
        "Remediation encryption key",
    ]


def test_member_roles_parameters(templates):
    params = _params(templates, solution.MEMBER_ROLES_STACK)
    assert set(params) == {"Namespace", "SecHubAdminAccount", "CustomRunbookPrefix", "CustomRunbookRolePrefix"}
    # The customers' prefixes are optional: empty keeps the reference's behaviour (ASR-* and SO0111-* only).
    for name in ("CustomRunbookPrefix", "CustomRunbookRolePrefix"):
        assert params[name]["Default"] == ""
        pattern = re.compile(params[name]["AllowedPattern"])
        assert pattern.fullmatch("") and pattern.fullmatch("Custom-") and not pattern.fullmatch("a*")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abc", True),
        ("prod-01", True),
        ("a1b2c3d4e", True),
        ("ab", False),  # too short
        ("abcdefghij", False),  # too long
        ("Prod", False),  # upper case
        ("-abc", False),
        ("abc-", False),
        ("xn--abc", False),  # reserved S3 prefix
        ("sthree-ab", False),
    ],
)
def test_namespace_constraint_is_s3_safe(templates, value, ok):
    for stack in (solution.MEMBER_STACK, solution.MEMBER_ROLES_STACK):
        param = _params(templates, stack)["Namespace"]
        fits = (
            bool(re.search(param["AllowedPattern"], value)) and param["MinLength"] <= len(value) <= param["MaxLength"]
        )
        assert fits is ok, (stack, value)


@pytest.mark.parametrize(("value", "ok"), [("123456789012", True), ("12345678901", False), ("1234567890123", False)])
def test_admin_account_constraint(templates, value, ok):
    pattern = _params(templates, solution.MEMBER_STACK)["SecHubAdminAccount"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok
