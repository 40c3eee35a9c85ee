"""AWS managed keys of the services moto 5.2 does not know (``alias/aws/sns``, ``alias/aws/sqs`` ...).

AWS KMS API Reference, DescribeKey
(https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html): called on a predefined AWS
alias (``alias/aws/<service>``) with no key behind it yet, KMS creates the AWS managed key, associates the
alias with it and returns it. moto does that only for its own short list of aliases (no SNS, no SQS) and
creates them as customer managed keys with a default policy.

The key created here is what the AWS KMS Developer Guide describes for AWS managed keys
(https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key): ``KeyManager``
``AWS``, and a key policy that lets principals of the account use the key only through the service
(``kms:ViaService`` ``<service>.<region>.amazonaws.com`` and ``kms:CallerAccount``), and the account read
its metadata; nobody can change it, and it admits no AWS service principal and no other account
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.kms.models import KmsBackend
from moto.kms.utils import RESERVED_ALIASES

from asr.simulator.emulation import extends

_AWS_ALIAS = re.compile(r"^alias/aws/(?P<service>[a-z0-9-]+)$")
#: Services with an AWS managed key that moto lacks (each documents alias/aws/<name>).
SERVICES = ("sns", "sqs", "logs", "cloudtrail", "secretsmanager", "ssm", "s3", "ebs", "rds", "lambda", "dynamodb")


def aws_managed_key_policy(account: str, region: str, service: str, partition: str = "aws") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account authorized to use it",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


@extends(KmsBackend, replaces=True)
def get_key_id_from_alias(self: KmsBackend, alias_name: str) -> str | None:
    for key in self.keys.values():
        if alias_name in key.aliases:
            return key.id
    match = _AWS_ALIAS.match(alias_name)
    if alias_name in RESERVED_ALIASES or (match and match["service"] in SERVICES):
        service = match["service"] if match else alias_name.rsplit("/", 1)[-1]
        partition = (
            "aws-cn"
            if self.region_name.startswith("cn-")
            else ("aws-us-gov" if self.region_name.startswith("us-gov-") else "aws")
        )
        policy = aws_managed_key_policy(self.account_id, self.region_name, service, partition)
        key = self.create_key(
            json.dumps(policy),
            "ENCRYPT_DECRYPT",
            "SYMMETRIC_DEFAULT",
            f"Default key that protects my {service} data",
            None,
        )
        key.key_manager = "AWS"
        self.create_alias(key.id, alias_name)
        return key.id
    return None
