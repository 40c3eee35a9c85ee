"""ASR-EnableVPCFlowLogs (EC2.6): a REJECT flow log of one VPC to an encrypted VPCFlowLogs/<vpc> log group."""

from __future__ import annotations

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_vpc_flow_logs import RemediationError, enable_vpc_flow_logs
from tests.conftest import ACCOUNT, REGION
from tests.remediations.conftest import NAMESPACE
from tests.remediations.helpers import new_kms_key

NAME = "EnableVPCFlowLogs"
OUTPUT = "Remediation.Output"
FLOW_LOGS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{solution.service_role('EnableVPCFlowLogs-remediationRole', NAMESPACE)}"
MISSING_VPC = "vpc-0123456789abcdef0"


pytestmark = pytest.mark.usefixtures("no_default_amis")


@pytest.fixture
def logs(aws):
    return boto3.client("logs", region_name=REGION)


@pytest.fixture
def key_arn(aws):
    """The solution's remediation key, published in SSM as the member stack does."""
    arn = new_kms_key()
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=solution.SSM_CMK_REMEDIATION_ARN, Value=arn, Type="String"
    )
    return arn


@pytest.fixture
def vpcs(ec2, logs):
    target = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    bystander = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    logs.create_log_group(logGroupName="team-flow-logs")
    existing = ec2.create_flow_logs(
        ResourceIds=[target],
        ResourceType="VPC",
        TrafficType="ACCEPT",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="team-flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/team",
    )["FlowLogIds"][0]
    return {"target": target, "bystander": bystander, "existing_flow_log": existing}


def _flow_logs(ec2, vpc_id: str) -> dict[str, dict]:
    found = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    return {f["FlowLogId"]: f for f in found}


def _log_group(logs, name: str) -> dict | None:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


def _ours(ec2, vpc_id: str) -> list[dict]:
    return [f for f in _flow_logs(ec2, vpc_id).values() if f["LogGroupName"] == f"VPCFlowLogs/{vpc_id}"]


def test_script_creates_the_encrypted_group_and_the_flow_log(ec2, logs, vpcs, key_arn):
    event = {"VPC": vpcs["target"], "RemediationRole": FLOW_LOGS_ROLE, "KMSKeyArn": key_arn}
    out = enable_vpc_flow_logs(event, None)
    assert _log_group(logs, f"VPCFlowLogs/{vpcs['target']}")["kmsKeyId"] == key_arn
    [flow_log] = _ours(ec2, vpcs["target"])
    assert (flow_log["TrafficType"], flow_log["DeliverLogsPermissionArn"]) == ("REJECT", FLOW_LOGS_ROLE)
    assert out["FlowLogId"] == flow_log["FlowLogId"] and out["LogGroupCreated"] == "true"


def test_script_uses_an_existing_log_group_as_it_is(ec2, logs, vpcs, key_arn):
    group = f"VPCFlowLogs/{vpcs['target']}"
    logs.create_log_group(logGroupName=group, tags={"owner": "network"})
    out = enable_vpc_flow_logs({"VPC": vpcs["target"], "RemediationRole": FLOW_LOGS_ROLE, "KMSKeyArn": key_arn}, None)
    assert out["LogGroupCreated"] == "false" and out["LogGroupKmsKeyId"] == "none"
    assert "kmsKeyId" not in _log_group(logs, group), "existing group's encryption not changed"
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"owner": "network"}
    assert len(_ours(ec2, vpcs["target"])) == 1


def test_script_missing_vpc_names_the_input_and_creates_nothing(ec2, logs, key_arn):
    with pytest.raises(RemediationError, match=f"VPC {MISSING_VPC}: no such VPC"):
        enable_vpc_flow_logs({"VPC": MISSING_VPC, "RemediationRole": FLOW_LOGS_ROLE, "KMSKeyArn": key_arn}, None)
    assert _log_group(logs, f"VPCFlowLogs/{MISSING_VPC}") is None


# --- the document, through the local runner ---------------------------------------


def test_document_enables_reject_flow_logs_with_the_default_key(ec2, logs, vpcs, key_arn, run_runbook):
    before_existing = _flow_logs(ec2, vpcs["target"])[vpcs["existing_flow_log"]]

    execution = run_runbook(NAME, VPC=vpcs["target"], RemediationRole=FLOW_LOGS_ROLE)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert _log_group(logs, f"VPCFlowLogs/{vpcs['target']}")["kmsKeyId"] == key_arn, "default key from SSM"
    # The group it creates keeps events 365 days, so it is not itself reported by CloudWatch.16 (issue 13,
    # defect 21); the team's own log group is left as it is.
    assert _log_group(logs, f"VPCFlowLogs/{vpcs['target']}")["retentionInDays"] == 365
    assert "retentionInDays" not in _log_group(logs, "team-flow-logs")
    [flow_log] = _ours(ec2, vpcs["target"])
    assert flow_log["TrafficType"] == "REJECT" and flow_log["FlowLogStatus"] == "ACTIVE"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"
    assert flow_log["DeliverLogsPermissionArn"] == FLOW_LOGS_ROLE
    assert _flow_logs(ec2, vpcs["target"])[vpcs["existing_flow_log"]] == before_existing, "team's flow log kept"
    assert _flow_logs(ec2, vpcs["bystander"]) == {}
    assert _log_group(logs, "team-flow-logs") is not None
    steps = [s["StepName"] for s in execution["StepExecutions"]]
    assert steps == ["Remediation", "WaitForFlowLogActive"]
    assert flow_log["FlowLogId"] in str(execution["Outputs"][OUTPUT])


def test_document_second_run_succeeds_and_changes_nothing(ec2, logs, vpcs, key_arn, run_runbook):
    run_runbook(NAME, VPC=vpcs["target"], RemediationRole=FLOW_LOGS_ROLE)
    before = _flow_logs(ec2, vpcs["target"])

    execution = run_runbook(NAME, VPC=vpcs["target"], RemediationRole=FLOW_LOGS_ROLE)

    assert execution["AutomationExecutionStatus"] == "Success", execution["FailureMessage"]
    assert "nothing changed" in str(execution["Outputs"][OUTPUT])
    assert _flow_logs(ec2, vpcs["target"]) == before


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("VPC", "vpc-XYZ"),
        ("VPC", "subnet-0123456789abcdef0"),
        ("RemediationRole", f"arn:aws:iam::{ACCOUNT}:user/flow"),
        ("RemediationRole", f"arn:aws:iam::{ACCOUNT}:role/AdminRole"),
        ("KMSKeyArn", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/"),
        ("KMSKeyArn", "alias/my-key"),
        ("KMSKeyArn", "11111111-2222-3333-4444-555555555555"),
    ],
)
def test_document_rejects_malformed_input_naming_it(ec2, logs, vpcs, key_arn, run_runbook, param, value):
    params = {"VPC": vpcs["target"], "RemediationRole": FLOW_LOGS_ROLE, param: value}
    with pytest.raises(ParameterValidationError, match=param):
        run_runbook(NAME, **params)
    assert _ours(ec2, vpcs["target"]) == []
    assert _log_group(logs, f"VPCFlowLogs/{vpcs['target']}") is None


def test_document_fails_on_a_missing_vpc_naming_it_and_creates_nothing(ec2, logs, vpcs, key_arn, run_runbook):
    execution = run_runbook(NAME, VPC=MISSING_VPC, RemediationRole=FLOW_LOGS_ROLE)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"VPC {MISSING_VPC}: no such VPC" in execution["FailureMessage"]
    assert _log_group(logs, f"VPCFlowLogs/{MISSING_VPC}") is None
    assert _ours(ec2, vpcs["target"]) == []
