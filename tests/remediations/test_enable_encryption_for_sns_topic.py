"""ASR-EnableEncryptionForSNSTopic: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_kms_encryption import RemediationError, encrypt_sns_topic
from tests.conftest import ACCOUNT, REGION
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
