"""AWS Secrets Manager controls (secrets).

SecretsManager.3 and SecretsManager.4 compare dates with the evaluation time, which is
read from :func:`utc_now`: tests replace it instead of waiting for time to pass.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html"

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(hour|hours|day|days)\s*\)$")


def utc_now() -> datetime:
    """The time the evaluation happens at (aware, UTC)."""
    return datetime.now(UTC)


def _describe(control_id: str, ctx: Context, resource: Resource) -> dict[str, Any]:
    secretsmanager = ctx.client("secretsmanager")
    try:
        return secretsmanager.describe_secret(SecretId=resource.id)
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"{control_id}: describe_secret failed for {resource.id!r}: {err}") from None


def _days(control_id: str, name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EvaluationError(f"{control_id}: {name} must be an integer number of days, got {value!r}") from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rotation_interval(rules: dict[str, Any]) -> timedelta | None:
    """The time between rotations the secret's RotationRules ask for; None for a cron schedule."""
    if rules.get("AutomaticallyAfterDays"):
        return timedelta(days=int(rules["AutomaticallyAfterDays"]))
    match = _RATE.match(str(rules.get("ScheduleExpression", "")).strip())
    if match:
        amount = int(match.group(1))
        return timedelta(hours=amount) if match.group(2).startswith("hour") else timedelta(days=amount)
    return None


@control(
    "SecretsManager.1",
    doc=f"{DOC}#secretsmanager-1",
    resource_types=("AwsSecretsManagerSecret",),
    defaults={"maximumAllowedRotationFrequency": None},
)
def secret_rotation_enabled(ctx: Context, resource: Resource) -> Verdict:
    """SecretsManager.1 (Config rule secretsmanager-rotation-enabled-check): NON_COMPLIANT if
    the secret is not scheduled for rotation (``RotationEnabled`` not true), or, when
    ``maximumAllowedRotationFrequency`` (days; no Security Hub default) is set, if its
    rotation schedule rotates less often than that."""
    maximum = ctx.parameters.get("maximumAllowedRotationFrequency")
    if maximum is not None:
        maximum = _days("SecretsManager.1", "maximumAllowedRotationFrequency", maximum)
    secret = _describe("SecretsManager.1", ctx, resource)
    if not secret.get("RotationEnabled"):
        return failed("RotationEnabled is false: automatic rotation is not configured")
    rules = secret.get("RotationRules", {})
    if maximum is None:
        return passed(f"RotationEnabled is true (RotationRules {rules})")
    interval = _rotation_interval(rules)
    if interval is None:
        raise EvaluationError(
            f"SecretsManager.1: cannot compare the rotation schedule {rules.get('ScheduleExpression')!r} of "
            f"{resource.id!r} with maximumAllowedRotationFrequency {maximum}"
        )
    if interval > timedelta(days=maximum):
        return failed(f"rotation schedule is every {interval}, longer than maximumAllowedRotationFrequency {maximum}")
    return passed(f"RotationEnabled is true, every {interval} (maximumAllowedRotationFrequency {maximum})")


@control(
    "SecretsManager.3",
    doc=f"{DOC}#secretsmanager-3",
    resource_types=("AwsSecretsManagerSecret",),
    defaults={"unusedForDays": 90},
)
def secret_recently_used(ctx: Context, resource: Resource) -> Verdict:
    """SecretsManager.3 (Config rule secretsmanager-secret-unused): NON_COMPLIANT if the
    secret has not been accessed within ``unusedForDays`` days (Security Hub default 90).
    The access date is ``LastAccessedDate``; a secret never accessed counts from its
    ``CreatedDate``.

    A secret scheduled for deletion is still judged. Neither the rule nor the control exempts it,
    and it is still a secret of the account: DescribeSecret returns it, with ``DeletedDate``, "the
    date the secret is scheduled for deletion ... Some time after the deleted date, Secrets Manager
    deletes the secret" (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html).
    Scheduling the deletion of an unused secret does not make it used, so it stays FAILED until
    Secrets Manager deletes it; the reason then names the deletion date. Once deleted it can no
    longer be described (an EvaluationError here; AWS Config records the deletion and Security Hub
    archives the finding)."""
    days = _days("SecretsManager.3", "unusedForDays", ctx.parameters["unusedForDays"])
    secret = _describe("SecretsManager.3", ctx, resource)
    now = utc_now()
    if secret.get("LastAccessedDate"):
        field, since = "LastAccessedDate", _aware(secret["LastAccessedDate"])
    elif secret.get("CreatedDate"):
        field, since = "CreatedDate (never accessed)", _aware(secret["CreatedDate"])
    else:
        raise EvaluationError(f"SecretsManager.3: {resource.id!r} has neither LastAccessedDate nor CreatedDate")
    idle = now - since
    pending = ""
    if secret.get("DeletedDate"):
        pending = (
            f"; scheduled for deletion on {_aware(secret['DeletedDate']).date().isoformat()}, judged until Secrets "
            "Manager deletes it"
        )
    if idle > timedelta(days=days):
        return failed(f"{field} is {since.isoformat()}, {idle.days} days ago, more than unusedForDays {days}{pending}")
    return passed(f"{field} is {since.isoformat()}, {idle.days} days ago (unusedForDays {days}){pending}")


@control(
    "SecretsManager.4",
    doc=f"{DOC}#secretsmanager-4",
    resource_types=("AwsSecretsManagerSecret",),
    defaults={"maxDaysSinceRotation": 90},
)
def secret_rotated_recently(ctx: Context, resource: Resource) -> Verdict:
    """SecretsManager.4 (Config rule secretsmanager-secret-periodic-rotation): NON_COMPLIANT
    if the secret has not been rotated for more than ``maxDaysSinceRotation`` days
    (Security Hub default 90). The rotation date is ``LastRotatedDate``; a secret never
    rotated counts from its ``CreatedDate``."""
    days = _days("SecretsManager.4", "maxDaysSinceRotation", ctx.parameters["maxDaysSinceRotation"])
    secret = _describe("SecretsManager.4", ctx, resource)
    now = utc_now()
    if secret.get("LastRotatedDate"):
        field, since = "LastRotatedDate", _aware(secret["LastRotatedDate"])
    elif secret.get("CreatedDate"):
        field, since = "CreatedDate (never rotated)", _aware(secret["CreatedDate"])
    else:
        raise EvaluationError(f"SecretsManager.4: {resource.id!r} has neither LastRotatedDate nor CreatedDate")
    age = now - since
    if age > timedelta(days=days):
        return failed(f"{field} is {since.isoformat()}, {age.days} days ago, more than maxDaysSinceRotation {days}")
    return passed(f"{field} is {since.isoformat()}, {age.days} days ago (maxDaysSinceRotation {days})")
