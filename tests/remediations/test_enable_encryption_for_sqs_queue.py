"""ASR-EnableEncryptionForSQSQueue: the script against moto, then the YAML document through the runner."""

from __future__ import annotations

import json

import boto3
import pytest

from asr import solution
from asr.simulator.errors import ParameterValidationError
from remediation_runbooks.scripts.enable_kms_encryption import RemediationError, encrypt_sqs_queue
from tests.conftest import REGION
from tests.remediations.helpers import new_kms_key

DOC = "EnableEncryptionForSQSQueue"


def attributes(sqs, name: str) -> dict[str, str]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


PLAIN = {"SqsManagedSseEnabled": "false"}  # new queues default to SSE-SQS; these are the unencrypted ones


# --- script --------------------------------------------------------------------


def test_without_a_key_turns_on_sse_sqs(sqs):
    sqs.create_queue(QueueName="jobs", Attributes=PLAIN)
    sqs.create_queue(QueueName="jobs-bystander", Attributes=PLAIN)
    out = encrypt_sqs_queue({"SQSQueueName": "jobs", "KmsKeyArn": ""}, None)
    assert attributes(sqs, "jobs")["SqsManagedSseEnabled"] == "true"
    assert "KmsMasterKeyId" not in attributes(sqs, "jobs")
    assert attributes(sqs, "jobs-bystander")["SqsManagedSseEnabled"] == "false"
    assert out["EncryptionBefore"] == "none" and out["EncryptionAfter"] == "SSE-SQS"


def test_encrypts_the_named_queue_only(sqs):
    key = new_kms_key()
    sqs.create_queue(QueueName="jobs", Attributes=PLAIN)
    sqs.create_queue(QueueName="jobs-bystander", Attributes=PLAIN)
    out = encrypt_sqs_queue({"SQSQueueName": "jobs", "KmsKeyArn": key}, None)
    assert attributes(sqs, "jobs")["KmsMasterKeyId"] == key
    assert "KmsMasterKeyId" not in attributes(sqs, "jobs-bystander")
    assert out["EncryptionAfter"] == key


@pytest.mark.parametrize("existing", [{"SqsManagedSseEnabled": "true"}, {"KmsMasterKeyId": "alias/theirs"}])
def test_existing_encryption_is_never_replaced(sqs, existing):
    sqs.create_queue(QueueName="jobs", Attributes=existing)
    out = encrypt_sqs_queue({"SQSQueueName": "jobs", "KmsKeyArn": new_kms_key()}, None)
    assert {k: attributes(sqs, "jobs").get(k) for k in existing} == existing
    assert "nothing changed" in out["Message"]


def test_unusable_key_is_refused_and_the_queue_left_alone(sqs):
    sqs.create_queue(QueueName="jobs", Attributes=PLAIN)
    key = new_kms_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    with pytest.raises(RemediationError, match="KmsKeyArn .*: not a symmetric encryption key"):
        encrypt_sqs_queue({"SQSQueueName": "jobs", "KmsKeyArn": key}, None)
    assert "KmsMasterKeyId" not in attributes(sqs, "jobs")


def test_missing_queue_names_the_input(sqs):
    with pytest.raises(RemediationError, match="SQSQueueName ghost: no such SQS queue"):
        encrypt_sqs_queue({"SQSQueueName": "ghost", "KmsKeyArn": new_kms_key()}, None)


# --- document ------------------------------------------------------------------


def test_document_encrypts_with_sse_sqs_by_default(run_runbook, sqs_doc):
    """SQS.1 passes with SQS managed keys (SSE-SQS), which need no key permission of any producer or
    consumer; the ASR remediation key, whose policy admits none of them, is not used unless asked."""
    boto3.client("ssm", region_name=REGION).put_parameter(Name=solution.SSM_CMK_REMEDIATION_ARN, Value=new_kms_key(),
                                                          Type="String")
    sqs_doc.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "45", **PLAIN},
                         tags={"team": "sec"})
    sqs_doc.create_queue(QueueName="orders-bystander", Attributes=PLAIN)
    before = attributes(sqs_doc, "orders.fifo")

    execution = run_runbook(DOC, SQSQueueName="orders.fifo")

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    after = attributes(sqs_doc, "orders.fifo")
    assert after.pop("SqsManagedSseEnabled") == "true"
    assert "KmsMasterKeyId" not in after
    changing = {"LastModifiedTimestamp", "KmsDataKeyReusePeriodSeconds"}
    assert {k: v for k, v in after.items() if k not in changing} == {
        k: v for k, v in before.items() if k not in changing | {"SqsManagedSseEnabled"}}
    assert attributes(sqs_doc, "orders-bystander")["SqsManagedSseEnabled"] == "false"
    url = sqs_doc.get_queue_url(QueueName="orders.fifo")["QueueUrl"]
    assert sqs_doc.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "sec"}
    assert json.loads(execution["Outputs"]["EncryptSQSQueue.Output"][0])["EncryptionAfter"] == "SSE-SQS"


def test_document_encrypts_with_a_given_kms_key(run_runbook, sqs_doc):
    key = new_kms_key()
    sqs_doc.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "45", **PLAIN},
                         tags={"team": "sec"})
    sqs_doc.create_queue(QueueName="orders-bystander", Attributes=PLAIN)
    before = attributes(sqs_doc, "orders.fifo")

    execution = run_runbook(DOC, SQSQueueName="orders.fifo", KmsKeyArn=key)

    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    after = attributes(sqs_doc, "orders.fifo")
    assert after.pop("KmsMasterKeyId") == key
    changing = {"LastModifiedTimestamp", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"}
    assert {k: v for k, v in after.items() if k not in changing} == {
        k: v for k, v in before.items() if k not in changing}
    assert "KmsMasterKeyId" not in attributes(sqs_doc, "orders-bystander")
    url = sqs_doc.get_queue_url(QueueName="orders.fifo")["QueueUrl"]
    assert sqs_doc.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "sec"}
    assert "EncryptSQSQueue.Output" in execution["Outputs"]


def test_the_control_runbooks_pass_no_key(sqs_doc):
    """Every standard's SQS.1 entry leaves KmsKeyArn to the document's default, SSE-SQS."""
    from asr.playbooks import data

    assert "KmsKeyArn" not in data.remediations()["EnableEncryptionForSQSQueue"].params
    for std in data.standards():
        for control in std.own():
            if control.remediation == "EnableEncryptionForSQSQueue":
                assert "KmsKeyArn" not in control.params, (std.key, control.control_id)


def test_document_second_run_changes_nothing(run_runbook, sqs_doc):
    key = new_kms_key()
    sqs_doc.create_queue(QueueName="twice", Attributes=PLAIN)
    first = run_runbook(DOC, SQSQueueName="twice", KmsKeyArn=key)
    second = run_runbook(DOC, SQSQueueName="twice", KmsKeyArn=new_kms_key())
    assert first["AutomationExecutionStatus"] == second["AutomationExecutionStatus"] == "Success"
    assert attributes(sqs_doc, "twice")["KmsMasterKeyId"] == key
    assert "nothing changed" in str(second["Outputs"])


@pytest.mark.parametrize(("name", "value"), [
    ("SQSQueueName", "https://sqs.us-east-1.amazonaws.com/111111111111/jobs"),
    ("SQSQueueName", "a" * 81),
    ("KmsKeyArn", "11111111-2222-3333-4444-555555555555"),
])
def test_document_rejects_malformed_input(run_runbook, sqs_doc, name, value):
    sqs_doc.create_queue(QueueName="jobs", Attributes=PLAIN)
    given = {"SQSQueueName": "jobs", "KmsKeyArn": new_kms_key(), name: value}
    with pytest.raises(ParameterValidationError, match=name):
        run_runbook(DOC, **given)
    assert "KmsMasterKeyId" not in attributes(sqs_doc, "jobs")


def test_document_fails_on_a_missing_queue_naming_it(run_runbook, sqs_doc):
    execution = run_runbook(DOC, SQSQueueName="absent", KmsKeyArn=new_kms_key())
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "SQSQueueName absent" in execution["FailureMessage"]
