"""Amazon SQS controls (queues)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/sqs-controls.html"


@control("SQS.1", doc=f"{DOC}#sqs-1", resource_types=("AwsSqsQueue",))
def queue_encrypted_at_rest(ctx: Context, resource: Resource) -> Verdict:
    """SQS.1 (Config rule sqs-queue-encrypted, a Security Hub custom rule): the queue must be
    encrypted at rest, with SQS managed keys (SSE-SQS, ``SqsManagedSseEnabled`` true) or with
    an AWS KMS key (SSE-KMS, ``KmsMasterKeyId`` set); either passes."""
    sqs = ctx.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=resource.name, QueueOwnerAWSAccountId=resource.account)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["KmsMasterKeyId", "SqsManagedSseEnabled"]
        ).get("Attributes", {})
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"SQS.1: cannot read queue {resource.id!r}: {err}") from None
    key = attributes.get("KmsMasterKeyId", "")
    if key:
        return passed(f"KmsMasterKeyId is {key!r} (SSE-KMS)")
    if attributes.get("SqsManagedSseEnabled", "false").lower() == "true":
        return passed("SqsManagedSseEnabled is true (SSE-SQS)")
    return failed("KmsMasterKeyId is not set and SqsManagedSseEnabled is false: the queue is not encrypted at rest")
