"""Realistic Security Hub (ASFF) findings and their EventBridge envelopes, for tests.

Two finding shapes, as Security Hub produces them:

* standard-specific ("consolidated control findings" off): one finding per enabled
  standard, identified by ``ProductFields.StandardsControlArn`` (CIS 1.2.0 by its
  ruleset ``GeneratorId`` and ``ProductFields.RuleId``);
* consolidated (security-control 2.0.0): one finding per control, identified by
  ``Compliance.SecurityControlId``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asr.simulator.aws import ACCOUNT_ID, REGION, partition_of

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_CONTROL_ID = re.compile(r"^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$")
_SEVERITY = {"CRITICAL": 90, "HIGH": 70, "MEDIUM": 40, "LOW": 1, "INFORMATIONAL": 0}


@dataclass(frozen=True)
class Standard:
    """A standard identity as it appears in findings: long name and version."""

    long_name: str
    version: str
    title: str

    @property
    def consolidated(self) -> bool:
        return self.long_name == "security-control"

    @property
    def ruleset(self) -> bool:
        """CIS 1.2.0 findings use the legacy ruleset GeneratorId and RuleId."""
        return self.long_name == "cis-aws-foundations-benchmark" and self.version == "1.2.0"


STANDARDS: dict[tuple[str, str], Standard] = {
    (s.long_name, s.version): s
    for s in (
        Standard("security-control", "2.0.0", "Consolidated security controls"),
        Standard("aws-foundational-security-best-practices", "1.0.0", "AWS Foundational Security Best Practices"),
        Standard("cis-aws-foundations-benchmark", "1.2.0", "CIS AWS Foundations Benchmark v1.2.0"),
        Standard("cis-aws-foundations-benchmark", "1.4.0", "CIS AWS Foundations Benchmark v1.4.0"),
        Standard("cis-aws-foundations-benchmark", "3.0.0", "CIS AWS Foundations Benchmark v3.0.0"),
        Standard("pci-dss", "3.2.1", "PCI DSS v3.2.1"),
        Standard("nist-800-53", "5.0.0", "NIST Special Publication 800-53 Revision 5"),
    )
}


def standard(long_name: str, version: str) -> Standard:
    try:
        return STANDARDS[(long_name, version)]
    except KeyError:
        known = ", ".join(f"{n} {v}" for n, v in STANDARDS)
        raise ValueError(f"unknown standard {long_name!r} version {version!r}; known: {known}") from None


def _check(account_id: str, region: str, partition: str, control_id: str) -> None:
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    if not isinstance(region, str) or not REGION.match(region):
        raise ValueError(f"region must look like 'us-east-1', got {region!r}")
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {', '.join(PARTITIONS)}, got {partition!r}")
    if partition_of(region) != partition:
        raise ValueError(f"region {region!r} is not in partition {partition!r}")
    if not isinstance(control_id, str) or not _CONTROL_ID.match(control_id):
        raise ValueError(f"control_id must look like 'Lambda.1' or '1.3', got {control_id!r}")


def _timestamp(moment: datetime | None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class _Where:
    account_id: str
    region: str
    partition: str

    def arn(self, resource: str, *, account: bool = True, region: bool = True) -> str:
        return (
            f"arn:{self.partition}:securityhub:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )


def make_finding(
    control_id: str,
    resource_id: str,
    *,
    resource_type: str,
    standard_name: str = "aws-foundational-security-best-practices",
    standard_version: str = "1.0.0",
    account_id: str = "111111111111",
    region: str = "us-east-1",
    partition: str | None = None,
    resource_region: str | None = None,
    resource_details: Mapping[str, Any] | None = None,
    config_rule_name: str | None = None,
    severity: str = "HIGH",
    title: str | None = None,
    description: str | None = None,
    finding_uuid: str | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """One FAILED, NEW, ACTIVE finding of ``control_id`` on ``resource_id``."""
    partition = partition or partition_of(region)
    _check(account_id, region, partition, control_id)
    if severity not in _SEVERITY:
        raise ValueError(f"severity must be one of {', '.join(_SEVERITY)}, got {severity!r}")
    std = standard(standard_name, standard_version)
    where = _Where(account_id, region, partition)
    when = _timestamp(timestamp)
    finding: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "ProductArn": f"arn:{partition}:securityhub:{region}::product/aws/securityhub",
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "AwsAccountId": account_id,
        "Region": region,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": when,
        "LastObservedAt": when,
        "CreatedAt": when,
        "UpdatedAt": when,
        "Severity": {"Label": severity, "Original": severity, "Normalized": _SEVERITY[severity]},
        "Title": title or f"{control_id} {resource_type} should be configured securely",
        "Description": description
        or f"This control checks whether the {resource_type} is compliant with {control_id}.",
        "Remediation": {
            "Recommendation": {
                "Text": f"For information on how to correct this issue, consult the {control_id} documentation."
            }
        },
        "Resources": [_resource(resource_type, resource_id, partition, resource_region or region, resource_details)],
        "Compliance": {"Status": "FAILED"},
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "ProductFields": {"aws/securityhub/ProductName": "Security Hub", "aws/securityhub/CompanyName": "AWS"},
    }
    finding_id = finding_uuid or str(uuid.uuid4())
    if std.consolidated:
        _consolidated(finding, where, control_id, finding_id)
    else:
        _standard_specific(finding, where, std, control_id, finding_id)
    if config_rule_name:
        finding["ProductFields"]["RelatedAWSResources:0/type"] = "AWS::Config::ConfigRule"
        finding["ProductFields"]["RelatedAWSResources:0/name"] = config_rule_name
    finding["ProductFields"]["aws/securityhub/FindingId"] = f"{finding['ProductArn']}/{finding['Id']}"
    return finding


def _resource(
    resource_type: str, resource_id: str, partition: str, region: str, details: Mapping[str, Any] | None
) -> dict[str, Any]:
    if not resource_type or not resource_id:
        raise ValueError(f"resource_type and resource_id are required, got {resource_type!r} and {resource_id!r}")
    if not REGION.match(region):
        raise ValueError(f"resource_region must look like 'us-east-1', got {region!r}")
    resource: dict[str, Any] = {"Type": resource_type, "Id": resource_id, "Partition": partition, "Region": region}
    if details:
        resource["Details"] = dict(details)
    return resource


def _consolidated(finding: dict[str, Any], where: _Where, control_id: str, finding_id: str) -> None:
    finding["Id"] = where.arn(f"security-control/{control_id}/finding/{finding_id}")
    finding["GeneratorId"] = f"security-control/{control_id}"
    finding["Compliance"].update(
        SecurityControlId=control_id,
        AssociatedStandards=[{"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}],
    )


def _standard_specific(finding: dict[str, Any], where: _Where, std: Standard, control_id: str, finding_id: str) -> None:
    path = f"{std.long_name}/v/{std.version}"
    finding["Id"] = where.arn(f"subscription/{path}/{control_id}/finding/{finding_id}")
    fields = finding["ProductFields"]
    fields["StandardsControlArn"] = where.arn(f"control/{path}/{control_id}")
    if std.ruleset:
        finding["GeneratorId"] = where.arn(f"ruleset/{path}/rule/{control_id}", account=False, region=False)
        fields["StandardsGuideArn"] = where.arn(f"ruleset/{path}", account=False, region=False)
        fields["StandardsGuideSubscriptionArn"] = where.arn(f"subscription/{path}")
        fields["RuleId"] = control_id
    else:
        finding["GeneratorId"] = f"{path}/{control_id}"
        fields["StandardsArn"] = where.arn(f"standards/{path}", account=False)
        fields["StandardsSubscriptionArn"] = where.arn(f"subscription/{path}")
        fields["ControlId"] = control_id


def _envelope(
    detail_type: str,
    findings: Sequence[Mapping[str, Any]],
    resources: list[str],
    detail: dict[str, Any],
    timestamp: datetime | None,
) -> dict[str, Any]:
    if not findings:
        raise ValueError("an event needs at least one finding")
    first = findings[0]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.securityhub",
        "account": first["AwsAccountId"],
        "time": _timestamp(timestamp)[:19] + "Z",
        "region": first["Region"],
        "resources": resources,
        "detail": {**detail, "findings": [dict(f) for f in findings]},
    }


def custom_action_event(
    findings: Sequence[Mapping[str, Any]],
    *,
    action_name: str = "Remediate with ASR",
    action_description: str = "Submit the finding for remediation by ASR",
    action_id: str = "ASRRemediation",
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The EventBridge event of a Security Hub custom action on ``findings``."""
    first = findings[0] if findings else None
    if first is None:
        raise ValueError("an event needs at least one finding")
    partition = first["Resources"][0]["Partition"]
    target = f"arn:{partition}:securityhub:{first['Region']}:{first['AwsAccountId']}:action/custom/{action_id}"
    detail = {"actionName": action_name, "actionDescription": action_description}
    return _envelope("Security Hub Findings - Custom Action", findings, [target], detail, timestamp)


def imported_event(findings: Sequence[Mapping[str, Any]], *, timestamp: datetime | None = None) -> dict[str, Any]:
    """The EventBridge event Security Hub sends when it imports or updates ``findings``."""
    resources = [f"{f['ProductArn']}/{f['Id']}" for f in findings]
    return _envelope("Security Hub Findings - Imported", findings, resources, {}, timestamp)
