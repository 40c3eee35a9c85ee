"""Amazon Macie controls."""

from __future__ import annotations

from botocore.exceptions import ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed


@control(
    "Macie.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/macie-controls.html#macie-1",
    resource_types=("AwsAccount",),
    scope="account",
)
def macie_enabled(ctx: Context, resource: Resource) -> Verdict:
    """Macie.1 (Config rule macie-status-check): Amazon Macie is enabled in the account and
    Region, i.e. the Macie session's status is ENABLED (PAUSED, or no session, fails)."""
    try:
        session = ctx.client("macie2").get_macie_session()
    except ClientError as err:
        error = err.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        # Where Macie was never enabled (or was disabled) GetMacieSession answers
        # AccessDeniedException "Macie is not enabled."; a missing session may also come back as
        # ResourceNotFoundException. Any other error (a real permission problem) decides nothing.
        if (
            code == "AccessDeniedException" and "not enabled" in message.lower()
        ) or code == "ResourceNotFoundException":
            return failed(f"Macie is not enabled in {ctx.region}: GetMacieSession answered {code} {message!r}")
        raise EvaluationError(f"Macie.1: cannot get the Macie session of {resource.id!r}: {err}") from None
    status = session.get("status")
    if status == "ENABLED":
        return passed("Macie session status is 'ENABLED'")
    return failed(f"Macie session status is {status!r}, not 'ENABLED'")
