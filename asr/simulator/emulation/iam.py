"""AWS Identity and Access Management: AWS managed policies exist in every account.

https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
"An AWS managed policy is a standalone policy that is created and administered by AWS" -- it is
there, under ``arn:<partition>:iam::aws:policy/<path><name>``, in every account, ready to attach
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html) or read
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html).

moto 5.2 knows AWS managed policies only when MOTO_IAM_LOAD_MANAGED_POLICIES was set before the
account's IAM backend was built (and then builds all ~1,300 of them): otherwise attaching
``arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore`` fails with NoSuchEntity. These
replacements add the one AWS managed policy a call names, from moto's own copy of AWS's policy
documents, the first time a call names it; everything else is moto's behaviour. A name AWS does
not define stays NoSuchEntity.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend

from asr.simulator.emulation import extends

_moto_get_policy = IAMBackend.get_policy
_moto_attach_role_policy = IAMBackend.attach_role_policy
_moto_attach_user_policy = IAMBackend.attach_user_policy
_moto_attach_group_policy = IAMBackend.attach_group_policy


@functools.cache
def _catalog() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)


def ensure_aws_managed_policy(backend: IAMBackend, policy_arn: str) -> None:
    """Make the AWS managed policy ``policy_arn`` exist in ``backend``'s account, if AWS defines it."""
    if not isinstance(policy_arn, str) or policy_arn in backend.managed_policies:
        return
    parts = policy_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[4] != "aws":
        return
    name = parts[5].rsplit("/", 1)[-1]
    data = _catalog().get(name)
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn != policy_arn:  # another partition or path than AWS's: not that policy
        return
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy


@extends(IAMBackend, replaces=True)
def get_policy(self: IAMBackend, policy_arn: str) -> Any:
    ensure_aws_managed_policy(self, policy_arn)
    return _moto_get_policy(self, policy_arn)


@extends(IAMBackend, replaces=True)
def attach_role_policy(self: IAMBackend, policy_arn: str, role_name: str) -> None:
    ensure_aws_managed_policy(self, policy_arn)
    return _moto_attach_role_policy(self, policy_arn, role_name)


@extends(IAMBackend, replaces=True)
def attach_user_policy(self: IAMBackend, policy_arn: str, user_name: str) -> None:
    ensure_aws_managed_policy(self, policy_arn)
    return _moto_attach_user_policy(self, policy_arn, user_name)


@extends(IAMBackend, replaces=True)
def attach_group_policy(self: IAMBackend, policy_arn: str, group_name: str) -> None:
    ensure_aws_managed_policy(self, policy_arn)
    return _moto_attach_group_policy(self, policy_arn, group_name)
