"""AWS KMS controls."""

from __future__ import annotations

from botocore.exceptions import ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, not_applicable, passed


@control(
    "KMS.4",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4",
    resource_types=("AwsKmsKey",),
)
def key_rotation_enabled(ctx: Context, resource: Resource) -> Verdict:
    """KMS.4 (Config rule cmk-backing-key-rotation-enabled): automatic rotation must be on
    for every customer managed symmetric encryption key. AWS managed keys, asymmetric and
    HMAC keys, keys in custom key stores and keys pending deletion are out of scope."""
    kms = ctx.client("kms")
    try:
        meta = kms.describe_key(KeyId=resource.id)["KeyMetadata"]
    except ClientError as err:
        raise EvaluationError(f"KMS.4: cannot describe key {resource.id!r}: {err}") from None
    if meta.get("KeyManager") != "CUSTOMER":
        return not_applicable(f"KeyManager is {meta.get('KeyManager')!r}, not CUSTOMER")
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return not_applicable(f"KeySpec is {meta.get('KeySpec')!r}: rotation applies to symmetric keys only")
    if meta.get("KeyState") == "PendingDeletion":
        return not_applicable("KeyState is 'PendingDeletion'")
    enabled = kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"]
    if enabled:
        return passed("KeyRotationEnabled is true")
    return failed("KeyRotationEnabled is false")
