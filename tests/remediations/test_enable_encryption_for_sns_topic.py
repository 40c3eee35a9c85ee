"""ASR-EnableEncryptionForSNSTopic: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_kms_encryption import RemediationError, encrypt_sns_topic
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.remediations.helpers import new_kms_key

DOC = "EnableEncryptionForSNSTopic"


def key_of(sns, arn: str) -> str | None:
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId")


# --- script --------------------------------------------------------------------


def test_encrypts_the_named_topic_only(sns):
    key = new_kms_key()
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    other = sns.create_topic(Name="alerts-bystander")["TopicArn"]
    out = encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert key_of(sns, topic) == key and key_of(sns, other) is None
    assert out["EncryptionBefore"] == "none" and out["EncryptionAfter"] == key


def test_an_existing_key_is_never_replaced(sns):
    theirs, ours = new_kms_key(), new_kms_key()
    topic = sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": theirs})["TopicArn"]
    out = encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": ours}, None)
    assert key_of(sns, topic) == theirs
    assert "nothing changed" in out["Message"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: new_kms_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"), "not a symmetric encryption key"),
    (lambda: f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555", "no such KMS key"),
])
def test_unusable_key_is_refused_and_the_topic_left_alone(sns, make, message):
    key = make()
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    with pytest.raises(RemediationError, match=f"KmsKeyArn .*: {message}"):
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert key_of(sns, topic) is None


def test_disabled_key_is_refused(sns):
    key = new_kms_key()
    boto3.client("kms", region_name=REGION).disable_key(KeyId=key.split("/")[-1])
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    with pytest.raises(RemediationError, match="key is Disabled"):
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)


def test_missing_topic_names_the_input(sns):
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:ghost"
    with pytest.raises(RemediationError, match="TopicArn .*:ghost: no such SNS topic"):
        encrypt_sns_topic({"TopicArn": arn, "KmsKeyArn": new_kms_key()}, None)


# --- publishers the key must admit ------------------------------------------------
#
# Once a topic is encrypted, every publisher needs kms:GenerateDataKey* and kms:Decrypt on its key; AWS
# services (EventBridge, CloudWatch alarms, S3 events, RDS events, Budgets, CodeStar Notifications ...)
# only through the key policy (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).

ROOT_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]}


def key_with_policy(*statements: dict) -> str:
    policy = {"Version": "2012-10-17", "Statement": [*ROOT_ONLY["Statement"], *statements]}
    return new_kms_key(Policy=json.dumps(policy))


def admit(principal: dict, actions=("kms:GenerateDataKey*", "kms:Decrypt"), **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": list(actions), "Resource": "*", **extra}


def topic_with_publisher(sns, principal: dict, name: str = "alerts") -> str:
    topic = sns.create_topic(Name=name)["TopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "publisher", "Effect": "Allow", "Principal": principal,
                                "Action": "sns:Publish", "Resource": topic})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return topic


def alarm_on(topic: str) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])


@pytest.mark.parametrize(("principal", "named"), [
    ({"Service": "events.amazonaws.com"}, "events.amazonaws.com"),
    ({"Service": ["budgets.amazonaws.com", "codestar-notifications.amazonaws.com"]}, "budgets.amazonaws.com"),
    ({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, f"account {OTHER_ACCOUNT}"),
])
def test_a_publisher_the_key_does_not_admit_is_refused_and_the_topic_left_alone(sns, principal, named):
    topic = topic_with_publisher(sns, principal)
    key = key_with_policy()
    with pytest.raises(RemediationError) as refused:
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert f"TopicArn {topic}" in str(refused.value) and named in str(refused.value)
    assert f"KmsKeyArn {key}" in str(refused.value) and "Nothing changed" in str(refused.value)
    assert key_of(sns, topic) is None


def test_a_cloudwatch_alarm_is_a_publisher_without_a_policy_statement(sns):
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    alarm_on(topic)
    with pytest.raises(RemediationError, match="cloudwatch.amazonaws.com .*CloudWatch alarm errors"):
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key_with_policy()}, None)
    assert key_of(sns, topic) is None


def test_publishers_the_key_policy_admits_are_encrypted_for(sns):
    topic = topic_with_publisher(sns, {"Service": "events.amazonaws.com"})
    alarm_on(topic)
    key = key_with_policy(
        admit({"Service": "events.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
        admit({"Service": ["cloudwatch.amazonaws.com", "s3.amazonaws.com"]}, actions=("kms:Decrypt*",
                                                                                   "kms:GenerateDataKey*")),
    )
    out = encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert key_of(sns, topic) == key and out["EncryptionAfter"] == key


def test_an_account_publisher_admitted_by_the_key_policy_is_encrypted_for(sns):
    topic = topic_with_publisher(sns, {"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:role/producer"]})
    key = key_with_policy(admit({"AWS": OTHER_ACCOUNT}, actions=("kms:*",)))
    encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert key_of(sns, topic) == key


def test_a_key_that_admits_only_half_the_actions_is_refused(sns):
    topic = topic_with_publisher(sns, {"Service": "events.amazonaws.com"})
    key = key_with_policy(admit({"Service": "events.amazonaws.com"}, actions=("kms:GenerateDataKey*",)))
    with pytest.raises(RemediationError, match="events.amazonaws.com"):
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)


def test_a_wildcard_key_statement_with_conditions_does_not_admit_a_service(sns):
    """The policy of an AWS managed key (alias/aws/sns): any principal, but only through SNS for callers of
    the account. AWS services publishing to the topic are not such callers."""
    topic = topic_with_publisher(sns, {"Service": "events.amazonaws.com"})
    key = key_with_policy(admit({"AWS": "*"}, actions=("kms:Decrypt", "kms:GenerateDataKey*"), Condition={
        "StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": f"sns.{REGION}.amazonaws.com"}}))
    with pytest.raises(RemediationError, match="events.amazonaws.com"):
        encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)


def test_the_default_topic_policy_names_no_publisher_to_admit(sns):
    """The default access policy lets principals of the owner account publish (AWS:SourceOwner); their
    KMS permissions come from IAM policies, which the root statement of the key policy enables."""
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    key = key_with_policy()
    encrypt_sns_topic({"TopicArn": topic, "KmsKeyArn": key}, None)
    assert key_of(sns, topic) == key


def test_document_refuses_a_key_that_would_strand_a_publisher(run_runbook, sns_doc):
    topic = topic_with_publisher(sns_doc, {"Service": "events.amazonaws.com"})
    execution = run_runbook(DOC, TopicArn=topic, KmsKeyArn=key_with_policy())
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "events.amazonaws.com" in execution["FailureMessage"]
    assert key_of(sns_doc, topic) is None


# --- document ------------------------------------------------------------------


def test_document_encrypts_with_the_asr_key_by_default(run_runbook, sns_doc):
    key = new_kms_key()
    boto3.client("ssm", region_name=REGION).put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=key,
                                                          Type="String")
    topic = sns_doc.create_topic(Name="alerts", Attributes={"DisplayName": "Alerts"},
                                 Tags=[{"Key": "team", "Value": "sec"}])["TopicArn"]
    other = sns_doc.create_topic(Name="alerts-bystander")["TopicArn"]
    policy = sns_doc.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]

    execution = run_runbook(DOC, TopicArn=topic)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    assert key_of(sns_doc, topic) == key and key_of(sns_doc, other) is None
    attributes = sns_doc.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attributes["DisplayName"], attributes["Policy"]) == ("Alerts", policy)
    assert sns_doc.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "team", "Value": "sec"}]
    assert "EncryptSNSTopic.Output" in execution["Outputs"]


def test_document_second_run_changes_nothing(run_runbook, sns_doc):
    key = new_kms_key()
    topic = sns_doc.create_topic(Name="twice")["TopicArn"]
    first = run_runbook(DOC, TopicArn=topic, KmsKeyArn=key)
    second = run_runbook(DOC, TopicArn=topic, KmsKeyArn=new_kms_key())
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert key_of(sns_doc, topic) == key
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value"), [
    ("TopicArn", "alerts"),
    ("TopicArn", "arn:aws:sqs:us-east-1:111111111111:alerts"),
    ("KmsKeyArn", "alias/aws/sns"),
    ("KmsKeyArn", "arn:aws:kms:us-east-1:111111111111:key/not-a-key-id"),
])
def test_document_rejects_malformed_input(run_runbook, sns_doc, name, value):
    topic = sns_doc.create_topic(Name="alerts")["TopicArn"]
    given = {"TopicArn": topic, "KmsKeyArn": new_kms_key(), name: value}
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **given)
    assert key_of(sns_doc, topic) is None


def test_document_fails_on_a_missing_topic_naming_it(run_runbook, sns_doc):
    execution = run_runbook(DOC, TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:absent", KmsKeyArn=new_kms_key())
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "TopicArn" in execution["FailureMessage"] and ":absent" in execution["FailureMessage"]
