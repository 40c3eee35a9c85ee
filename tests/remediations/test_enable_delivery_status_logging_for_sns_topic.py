"""ASR-EnableDeliveryStatusLoggingForSNSTopic: the script and the YAML document through the runner.

moto 5.2.5 accepts the delivery-status attributes in SetTopicAttributes but never returns
them from GetTopicAttributes, so every SNS call here is answered by botocore's Stubber
against the real API shapes: each request is checked (operation and exact parameters)
and any call not expected fails the test, which also proves no other topic and no other
attribute is touched. IAM (the logging role check) runs on moto. The document tests
patch the Stubber-backed SNS client into the runner's session (``stub_client``).
"""

from __future__ import annotations

import json

import boto3
import pytest

from asr import documents, solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_delivery_status_logging import (
    PROTOCOLS,
    RemediationError,
    enable_delivery_status_logging,
    missing_settings,
)
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.remediations.conftest import NAMESPACE

DOC = "EnableDeliveryStatusLoggingForSNSTopic"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
ROLE_NAME = solution.service_role("SNS2DeliveryStatusLogging-remediationRole", NAMESPACE)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
BASE = {"TopicArn": TOPIC, "Owner": ACCOUNT, "DisplayName": "Alerts", "Policy": "{}"}


def make_logging_role(principal: str = "sns.amazonaws.com") -> None:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}
    boto3.client("iam", region_name=REGION).create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))


def full_logging(rate: str = "0") -> dict[str, str]:
    return missing_settings({}, ROLE, rate)


def expect_enable(stubber, existing: dict[str, str], to_set: dict[str, str]) -> None:
    stubber.add_response("get_topic_attributes", {"Attributes": BASE | existing}, {"TopicArn": TOPIC})
    for name, value in to_set.items():
        stubber.add_response("set_topic_attributes", {},
                             {"TopicArn": TOPIC, "AttributeName": name, "AttributeValue": value})
    stubber.add_response("get_topic_attributes", {"Attributes": BASE | existing | to_set}, {"TopicArn": TOPIC})


def test_the_service_role_is_declared_for_sns_with_logs_write():
    role = documents.permissions(DOC).service_roles[0]
    assert solution.service_role(role.name, NAMESPACE) == ROLE_NAME
    assert role.principal == "sns.amazonaws.com"
    assert "logs:PutLogEvents" in role.statements[0].actions


def test_missing_settings_covers_every_protocol_and_keeps_existing_ones():
    existing = {"LambdaSuccessFeedbackRoleArn": "arn:aws:iam::111111111111:role/theirs",
                "LambdaSuccessFeedbackSampleRate": "100"}
    todo = missing_settings(existing, ROLE, "0")
    assert len(todo) == 3 * len(PROTOCOLS) - 2
    assert "LambdaSuccessFeedbackRoleArn" not in todo and todo["LambdaFailureFeedbackRoleArn"] == ROLE


# --- script --------------------------------------------------------------------


def test_sets_every_missing_attribute_once(stub_client, aws_only):
    make_logging_role()
    sns = stub_client("sns")
    expect_enable(sns, {}, full_logging("5"))
    out = enable_delivery_status_logging({"SNSTopicArn": TOPIC, "LoggingRole": ROLE, "SampleRate": "5"}, None)
    sns.assert_no_pending_responses()
    assert len(out["AttributesSet"].split(",")) == 15


@pytest.mark.parametrize(("role", "setup", "message"), [
    (ROLE, lambda: None, "no such IAM role"),
    (ROLE, lambda: make_logging_role("lambda.amazonaws.com"), "its trust policy does not allow sns.amazonaws.com"),
    (ROLE.replace(ACCOUNT, OTHER_ACCOUNT), lambda: None, "not in the topic's account"),
])
def test_bad_logging_role_is_refused_before_any_change(stub_client, aws_only, role, setup, message):
    setup()
    sns = stub_client("sns")
    sns.add_response("get_topic_attributes", {"Attributes": BASE}, {"TopicArn": TOPIC})
    with pytest.raises(RemediationError, match=f"LoggingRole .*: {message}"):
        enable_delivery_status_logging({"SNSTopicArn": TOPIC, "LoggingRole": role, "SampleRate": "0"}, None)
    sns.assert_no_pending_responses()  # no SetTopicAttributes


# --- document ------------------------------------------------------------------


def test_document_fills_in_only_what_is_missing(run_runbook, stub_client):
    make_logging_role()
    sns = stub_client("sns")
    theirs = {"HTTPSuccessFeedbackRoleArn": f"arn:aws:iam::{ACCOUNT}:role/theirs",
              "HTTPSuccessFeedbackSampleRate": "100"}
    to_set = {k: v for k, v in full_logging().items() if k not in theirs}
    expect_enable(sns, theirs, to_set)

    execution = run_runbook(DOC, SNSTopicArn=TOPIC, LoggingRole=ROLE)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    sns.assert_no_pending_responses()
    assert "EnableDeliveryStatusLogging.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, stub_client):
    make_logging_role()
    sns = stub_client("sns")
    for _ in range(2):
        sns.add_response("get_topic_attributes", {"Attributes": BASE | full_logging()}, {"TopicArn": TOPIC})
    execution = run_runbook(DOC, SNSTopicArn=TOPIC, LoggingRole=ROLE)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    sns.assert_no_pending_responses()
    assert "nothing changed" in str(execution["Outputs"])


@pytest.mark.parametrize(("name", "value"), [
    ("SNSTopicArn", "alerts"),
    ("SNSTopicArn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts"),
    ("LoggingRole", f"arn:aws:iam::{ACCOUNT}:role/AdminRole"),
    ("SampleRate", "101"),
    ("SampleRate", "-1"),
])
def test_document_rejects_malformed_input(run_runbook, stub_client, name, value):
    sns = stub_client("sns")
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **{"SNSTopicArn": TOPIC, "LoggingRole": ROLE, name: value})
    sns.assert_no_pending_responses()


def test_document_fails_on_a_missing_topic_naming_it(run_runbook, stub_client):
    make_logging_role()
    sns = stub_client("sns")
    sns.add_client_error("get_topic_attributes", "NotFound", "Topic does not exist",
                         expected_params={"TopicArn": TOPIC})
    execution = run_runbook(DOC, SNSTopicArn=TOPIC, LoggingRole=ROLE)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert f"SNSTopicArn {TOPIC}: no such SNS topic" in execution["FailureMessage"]
    sns.assert_no_pending_responses()
