"""AWS Config controls."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from asr.controls.base import Context, EvaluationError, Resource, Verdict, control, failed, passed

_SLR_PATH = ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
_SECURITY_HUB = "securityhub.amazonaws.com"


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


@control(
    "Config.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/config-controls.html#config-1",
    resource_types=("AwsAccount",),
    defaults={"includeConfigServiceLinkedRoleCheck": True},
    scope="account",
)
def config_enabled(ctx: Context, resource: Resource) -> Verdict:
    """Config.1 (no AWS Config managed rule: a custom Security Hub check): AWS Config must be
    enabled in the Region, i.e. a configuration recorder exists and is recording, it must record
    the resource types that enabled controls need, and, unless includeConfigServiceLinkedRoleCheck
    is false, it must use the service-linked role AWSServiceRoleForConfig.

    Which resource types the enabled controls need is not visible from here, so recording every
    supported type (recordingGroup.allSupported) is required. A recording service-linked recorder
    that Security Hub itself owns (servicePrincipal securityhub.amazonaws.com) passes, as the
    control page notes."""
    client = ctx.session.client("config", region_name=ctx.region or None)
    try:
        recorders = client.describe_configuration_recorders().get("ConfigurationRecorders", [])
        statuses = client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    except (ClientError, BotoCoreError) as err:
        raise EvaluationError(f"Config.1: cannot read configuration recorders of {resource.id!r}: {err}") from None
    recording = {s.get("name"): bool(s.get("recording")) for s in statuses}
    if not recorders:
        return failed(f"no AWS Config configuration recorder exists in {ctx.region}")

    for rec in recorders:
        if rec.get("servicePrincipal") == _SECURITY_HUB and recording.get(rec.get("name")):
            return passed(f"service-linked recorder {rec.get('name')!r} for {_SECURITY_HUB} is recording")

    problems = []
    for rec in recorders:
        if rec.get("servicePrincipal"):
            continue  # a recorder another service owns records for that service only
        name = rec.get("name")
        group = rec.get("recordingGroup") or {}
        role = str(rec.get("roleARN", ""))
        if not recording.get(name):
            problems.append(f"recorder {name!r}: recording is false")
        elif not group.get("allSupported"):
            strategy = (group.get("recordingStrategy") or {}).get("useOnly", "")
            problems.append(f"recorder {name!r}: recordingGroup.allSupported is false (recordingStrategy {strategy!r})")
        elif _as_bool(ctx.parameter("includeConfigServiceLinkedRoleCheck")) and not _is_config_slr(role, ctx):
            problems.append(
                f"recorder {name!r}: roleARN is {role!r}, not the service-linked role AWSServiceRoleForConfig"
            )
        else:
            slr = "" if _as_bool(ctx.parameter("includeConfigServiceLinkedRoleCheck")) else " (role not checked)"
            return passed(f"recorder {name!r} is recording all supported resource types with roleARN {role!r}{slr}")
    if not problems:
        return failed(f"no customer-managed configuration recorder exists in {ctx.region}")
    return failed("; ".join(problems))


def _is_config_slr(role_arn: str, ctx: Context) -> bool:
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not role_arn.endswith(_SLR_PATH):
        return False
    return not ctx.account or parts[4] == ctx.account
