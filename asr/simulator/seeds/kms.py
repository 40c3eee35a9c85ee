"""Seeders for AWS KMS controls."""

from __future__ import annotations

from asr.controls import Resource
from asr.simulator.seeds import Seeded, Where, seeder


@seeder("KMS.4")
def key_without_rotation(where: Where) -> Seeded:
    """A customer managed symmetric key with automatic rotation off (the KMS.4 failure), next to a
    second key that must stay as it is."""
    kms = where.client("kms")
    key = kms.create_key(Description="seeded: rotation off")["KeyMetadata"]
    other = kms.create_key(Description="seeded: bystander")["KeyMetadata"]["KeyId"]
    return Seeded(
        resource=Resource.of_arn(key["Arn"], "AwsKmsKey"),
        state=lambda: kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"],
        bystanders=lambda: (
            kms.get_key_rotation_status(KeyId=other)["KeyRotationEnabled"],
            kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"],
        ),
    )
