"""asr/simulator/emulation/kms.py through boto3 under moto: DescribeKey on a predefined AWS alias creates
the AWS managed key (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html), with the
policy AWS managed keys have."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from asr.simulator import emulation
from tests.conftest import REGION, multi_account_moto


@pytest.fixture
def kms(monkeypatch):
    emulation.install()
    with multi_account_moto(monkeypatch):
        yield boto3.client("kms", region_name=REGION)


def test_describe_key_on_the_sns_alias_creates_the_aws_managed_key(kms):
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    meta = kms.describe_key(KeyId="alias/aws/sns")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS" and meta["KeyState"] == "Enabled"
    again = kms.describe_key(KeyId=f"arn:aws:kms:{REGION}:{account}:alias/aws/sns")["KeyMetadata"]
    assert again["Arn"] == meta["Arn"], "the alias names one key"
    policy = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
    via = policy["Statement"][0]["Condition"]["StringEquals"]
    assert via == {"kms:CallerAccount": account, "kms:ViaService": f"sns.{REGION}.amazonaws.com"}
    assert not any("Service" in (s.get("Principal") or {}) for s in policy["Statement"])
    aliases = [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]]
    assert aliases == ["alias/aws/sns"]


def test_an_alias_that_is_not_predefined_is_still_not_found(kms):
    with pytest.raises(ClientError) as err:
        kms.describe_key(KeyId="alias/aws/not-a-service")
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError):
        kms.describe_key(KeyId="alias/my-key")


def test_moto_own_reserved_aliases_still_resolve(kms):
    assert kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyManager"] == "AWS"
