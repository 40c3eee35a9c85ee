"""Amazon ECR controls."""

from __future__ import annotations

from asr.controls.base import Context, EvaluationError, Resource, Verdict, api_call, control, failed, passed

_SCANNING = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def _repository_name(resource: Resource) -> str:
    """The repository name of an ARN (names may hold '/': ``team/app``) or of a bare name."""
    if ":repository/" in resource.id:
        return resource.id.split(":repository/", 1)[1]
    if resource.id.startswith("arn:"):
        raise EvaluationError(f"ECR.1: {resource.id!r} is not an ECR repository ARN")
    return resource.id


@control(
    "ECR.1",
    doc="https://docs.aws.amazon.com/securityhub/latest/userguide/ecr-controls.html#ecr-1",
    resource_types=("AwsEcrRepository",),
)
def private_repository_scanning(ctx: Context, resource: Resource) -> Verdict:
    """ECR.1 (Config rule ecr-private-image-scanning-enabled): a private repository's image scan
    frequency must be scan on push or continuous scan. The effective frequency comes from the
    registry scanning rules that apply to the repository; with basic scanning, the repository's own
    (older) ``scanOnPush`` setting also turns on scanning on push."""
    name = _repository_name(resource)
    ecr = ctx.client("ecr")
    repos = api_call("ECR.1", resource, ecr.describe_repositories, repositoryNames=[name])["repositories"]
    if not repos:
        raise EvaluationError(f"ECR.1: repository {name!r} not found")
    response = api_call("ECR.1", resource, ecr.batch_get_repository_scanning_configuration, repositoryNames=[name])
    configs = response.get("scanningConfigurations", [])
    frequency = configs[0].get("scanFrequency") if configs else None
    if frequency in _SCANNING:
        return passed(f"scanFrequency is {frequency!r}")
    registry = api_call("ECR.1", resource, ecr.get_registry_scanning_configuration)
    scan_type = (registry.get("scanningConfiguration") or {}).get("scanType", "BASIC")
    scan_on_push = (repos[0].get("imageScanningConfiguration") or {}).get("scanOnPush", False)
    if scan_type == "BASIC" and scan_on_push:
        return passed("imageScanningConfiguration.scanOnPush is true (basic scanning)")
    return failed(f"scanFrequency is {frequency!r} (registry scanType {scan_type!r}, scanOnPush {scan_on_push})")
