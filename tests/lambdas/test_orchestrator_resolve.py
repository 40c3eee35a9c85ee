"""resolve: every branch of finding -> target, with moto and a real member account."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from asr import solution
from asr.simulator.findings import make_finding
from lambdas.orchestrator import resolve, workflow
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION, multi_account_moto
from tests.orchestrator.moto_ext import strict_member_role

MEMBER = OTHER_ACCOUNT
FN = f"arn:aws:lambda:{REGION}:{MEMBER}:function:f"
RUNBOOK = "ASR-SC_2.0.0_Lambda.1"
DOC = {
    "schemaVersion": "0.3",
    "parameters": {},
    "mainSteps": [{"name": "s", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
}


class Env:
    def __init__(self) -> None:
        self.sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        self.topic = self.sns.create_topic(Name=solution.SNS_TOPIC)["TopicArn"]
        self.inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn)
        self.ssm = boto3.client("ssm", region_name=REGION)
        self.sqs = sqs

    def playbook(self, long_name="security-control", version="2.0.0", short="SC", status="enabled") -> None:
        self.ssm.put_parameter(Name=solution.ssm_standard_shortname(long_name, version), Value=short, Type="String")
        self.ssm.put_parameter(Name=solution.ssm_standard_status(long_name, version), Value=status, Type="String")

    def member(self, *, role=True, runbook: str | None = RUNBOOK, doc_type="Automation", roles=()) -> boto3.Session:
        creds = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{MEMBER}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )
        for name in ((solution.ORCHESTRATOR_MEMBER_ROLE,) if role else ()) + tuple(roles):
            session.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
        if runbook:
            content = DOC if doc_type == "Automation" else {"schemaVersion": "2.2", "mainSteps": []}
            session.client("ssm").create_document(
                Name=runbook, Content=json.dumps(content), DocumentType=doc_type, DocumentFormat="JSON"
            )
        return session

    def notes(self) -> list[dict]:
        got = self.sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(json.loads(m["Body"])["Message"]) for m in got]


# The member roles trust this test's admin account (the caller's).
pytestmark = pytest.mark.stack_parameters(SecHubAdminAccount=ACCOUNT)


@pytest.fixture(autouse=True)
def _as_the_function(as_function):
    """The handler runs as its synthesized execution role (admin account = the caller's)."""
    as_function(resolve, solution.RESOLVE_FUNCTION)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with multi_account_moto(monkeypatch):
        strict_member_role(monkeypatch)
        e = Env()
        monkeypatch.setenv("SNS_TOPIC_ARN", e.topic)
        monkeypatch.delenv("WORKFLOW_RUNBOOK", raising=False)
        yield e


def _event(finding=None, event_type=solution.EVENT_CUSTOM_ACTION, **kwargs) -> dict:
    finding = (
        finding
        if finding is not None
        else make_finding(
            "Lambda.1",
            FN,
            resource_type="AwsLambdaFunction",
            standard_name="security-control",
            standard_version="2.0.0",
            account_id=MEMBER,
            **kwargs,
        )
    )
    return {"Finding": finding, "EventType": event_type, "CustomActionName": solution.CUSTOM_ACTION_NAME}


def _run(event) -> dict:
    return resolve.lambda_handler(event, None)


def test_ready_target(env: Env):
    env.playbook()
    env.member()
    out = _run(_event())
    assert out["Outcome"] == "READY"
    target = out["Target"]
    assert (target["Account"], target["Region"], target["Runbook"]) == (MEMBER, REGION, RUNBOOK)
    assert target["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/{solution.ORCHESTRATOR_MEMBER_ROLE}"
    # the finding is carried once (the worker adds it to the runbook's parameters): payload.py
    assert "Finding" not in target["Parameters"] and "FindingRef" not in out
    assert set(out) == {"MapIndex", "EventType", "CustomActionName", "Finding", "Outcome", "Message", "Target"}
    assert env.notes() == []  # READY is never notified


def test_custom_control_role_is_preferred(env: Env):
    env.playbook()
    custom = solution.custom_control_role("SC", "2.0.0", "Lambda.1")
    env.member(roles=(custom,))
    assert _run(_event())["Target"]["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/{custom}"


def test_remap(env: Env):
    env.playbook()
    env.member(runbook="ASR-SC_2.0.0_Lambda.9")
    env.ssm.put_parameter(Name=solution.ssm_control_remap("SC", "2.0.0", "Lambda.1"), Value="Lambda.9", Type="String")
    out = _run(_event())
    assert out["Target"]["Runbook"] == "ASR-SC_2.0.0_Lambda.9"
    assert out["Target"]["ControlId"] == "Lambda.1"


@pytest.mark.parametrize("status", ["NOTIFIED", "RESOLVED", "SUPPRESSED"])
def test_imported_finding_not_new(env: Env, status):
    finding = make_finding(
        "Lambda.1",
        FN,
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
        account_id=MEMBER,
    )
    finding["Workflow"] = {"Status": status}
    out = _run(_event(finding, event_type=solution.EVENT_IMPORTED))
    assert out["Outcome"] == "NOT_NEW"
    assert env.notes()[0]["message"].startswith(f"Finding Workflow State is not NEW ({status}).")


def test_unknown_event_type_is_not_new(env: Env):
    assert _run(_event(event_type="Something else"))["Outcome"] == "NOT_NEW"


def test_playbook_not_installed(env: Env):
    out = _run(_event())
    assert out["Outcome"] == "PLAYBOOK_NOT_ENABLED"
    assert "not installed" in out["Message"]


@pytest.mark.parametrize("status", ["disabled", "No", ""])
def test_playbook_disabled(env: Env, status):
    env.playbook(status=status or " ")
    out = _run(_event())
    assert out["Outcome"] == "PLAYBOOK_NOT_ENABLED"
    assert env.notes()[0]["Remediation_Status"] == "PLAYBOOK_NOT_ENABLED"


def test_no_runbook(env: Env):
    env.playbook()
    env.member(runbook=None)
    out = _run(_event())
    assert out["Outcome"] == "NO_RUNBOOK"
    assert RUNBOOK in out["Message"] and MEMBER in out["Message"]


def test_runbook_of_the_wrong_type_is_not_active(env: Env):
    env.playbook()
    env.member(doc_type="Command")
    out = _run(_event())
    assert out["Outcome"] == "RUNBOOK_NOT_ACTIVE"
    assert "DocumentType Command" in out["Message"]


def test_assume_role_failure(env: Env):
    env.playbook()
    env.member(role=False)
    out = _run(_event())
    assert out["Outcome"] == "ASSUME_ROLE_FAILURE"
    assert solution.ORCHESTRATOR_MEMBER_ROLE in out["Message"] and MEMBER in out["Message"]


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda f: f.pop("AwsAccountId"), "AwsAccountId"),
        (lambda f: f.update(Resources=[]), "Resources"),
        (lambda f: f.update(ProductArn="nope"), "ProductArn"),
        (lambda f: f["Compliance"].pop("SecurityControlId"), "StandardsControlArn"),
    ],
)
def test_malformed_finding_is_lambda_error_naming_the_field(env: Env, mutate, field):
    finding = make_finding(
        "Lambda.1",
        FN,
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
        account_id=MEMBER,
    )
    mutate(finding)
    out = _run(_event(finding))
    assert out["Outcome"] == "LAMBDA_ERROR"
    assert field in out["Message"]
    assert env.notes()[0]["Remediation_Status"] == "LAMBDA_ERROR"


@pytest.mark.parametrize("event", [None, "text", 42, {"Finding": ["a"]}])
def test_garbage_input_is_an_outcome(env: Env, event):
    assert _run(event)["Outcome"] == "LAMBDA_ERROR"


def test_unexpected_errors_are_an_outcome(env: Env, monkeypatch: pytest.MonkeyPatch):
    env.playbook()
    monkeypatch.setattr(resolve, "_security_hub_target", lambda f: 1 / 0)
    out = _run(_event())
    assert out["Outcome"] == "LAMBDA_ERROR" and "ZeroDivisionError" in out["Message"]


def _config_finding(title="my-config-rule") -> dict:
    finding = make_finding("Lambda.1", FN, resource_type="AwsLambdaFunction", account_id=MEMBER, title=title)
    finding["ProductFields"]["aws/securityhub/ProductName"] = "Config"
    return finding


@pytest.mark.stack_parameters(CustomRunbookPrefix="My-", CustomRunbookRolePrefix="MyRole")
def test_custom_runbook_for_a_non_security_hub_finding(env: Env):
    env.member(runbook="My-Runbook", roles=("MyRole",))
    env.ssm.put_parameter(
        Name="/Solutions/SO0111/my-config-rule",
        Type="String",
        Value=json.dumps({"RunbookName": "My-Runbook", "RunbookRole": "MyRole"}),
    )
    out = _run(_event(_config_finding()))
    assert out["Outcome"] == "READY"
    assert out["Target"]["Runbook"] == "My-Runbook"
    assert out["Target"]["RoleArn"] == f"arn:aws:iam::{MEMBER}:role/MyRole"


def test_custom_runbook_not_granted_is_refused_naming_what_to_grant(env: Env, iam_enforcer):
    """Defect: resolve fell back to the member role when iam:GetRole was denied. Without the
    member-roles prefixes the member role may not read the customer's runbook or role."""
    env.member(runbook="My-Runbook", roles=("MyRole",))
    env.ssm.put_parameter(
        Name="/Solutions/SO0111/my-config-rule",
        Type="String",
        Value=json.dumps({"RunbookName": "My-Runbook", "RunbookRole": "MyRole"}),
    )
    with iam_enforcer.expect_denial(
        lambda d: d.action == "ssm:DescribeDocument" and d.resource.endswith("document/My-Runbook")
    ):
        out = _run(_event(_config_finding()))
    assert out["Outcome"] == "PERMISSION_MISSING"
    assert "My-Runbook" in out["Message"] and "CustomRunbookPrefix" in out["Message"]


@pytest.mark.stack_parameters(CustomRunbookPrefix="My-")
def test_custom_runbook_role_not_granted_is_refused_not_replaced(env: Env, iam_enforcer):
    env.member(runbook="My-Runbook", roles=("MyRole",))
    env.ssm.put_parameter(
        Name="/Solutions/SO0111/my-config-rule",
        Type="String",
        Value=json.dumps({"RunbookName": "My-Runbook", "RunbookRole": "MyRole"}),
    )
    with iam_enforcer.expect_denial(lambda d: d.action == "iam:GetRole" and d.resource.endswith("role/MyRole")):
        out = _run(_event(_config_finding()))
    assert out["Outcome"] == "PERMISSION_MISSING"
    assert "MyRole" in out["Message"] and "CustomRunbookRolePrefix" in out["Message"]


@pytest.mark.stack_parameters(CustomRunbookPrefix="My-", CustomRunbookRolePrefix="MyRole")
def test_custom_runbook_role_that_does_not_exist_is_refused(env: Env):
    env.member(runbook="My-Runbook")
    env.ssm.put_parameter(
        Name="/Solutions/SO0111/my-config-rule",
        Type="String",
        Value=json.dumps({"RunbookName": "My-Runbook", "RunbookRole": "MyRoleGone"}),
    )
    out = _run(_event(_config_finding()))
    assert out["Outcome"] == "PERMISSION_MISSING" and "MyRoleGone" in out["Message"]


def test_custom_runbook_missing_parameter(env: Env):
    out = _run(_event(_config_finding()))
    assert out["Outcome"] == "NO_RUNBOOK" and "/Solutions/SO0111/my-config-rule" in out["Message"]


@pytest.mark.parametrize("value", ["not json", "[]", '{"RunbookRole": "x"}', '{"RunbookName": 5}'])
def test_custom_runbook_bad_parameter(env: Env, value):
    env.ssm.put_parameter(Name="/Solutions/SO0111/my-config-rule", Type="String", Value=value)
    out = _run(_event(_config_finding()))
    assert out["Outcome"] == "LAMBDA_ERROR" and "RunbookName" in out["Message"]


def test_alternate_workflow_is_not_used_unless_approval_is_required(env: Env, monkeypatch: pytest.MonkeyPatch):
    """The reference routed every finding to WORKFLOW_RUNBOOK (its gate tested the string "false")."""
    env.playbook()
    env.member()
    monkeypatch.setenv("WORKFLOW_RUNBOOK", "ASR-Approval")
    assert _run(_event())["Target"]["Runbook"] == RUNBOOK
    monkeypatch.setattr(workflow, "approval_required", lambda finding: True)
    target = _run(_event())["Target"]
    assert target["Runbook"] == "ASR-Approval"
    assert target["Parameters"]["RemediationDoc"] == RUNBOOK
    monkeypatch.setattr(workflow, "approval_required", lambda finding: "false")
    assert _run(_event())["Outcome"] == "LAMBDA_ERROR"


def test_admin_account_is_not_the_member(env: Env):
    assert ACCOUNT != MEMBER
