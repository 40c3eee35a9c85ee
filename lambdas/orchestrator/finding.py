"""The one finding model: both ASFF shapes (standard-specific and consolidated), and
findings of other products (Config, Health, GuardDuty, Inspector ...).

``Finding.parse(raw)`` never lets a KeyError or TypeError escape: a malformed finding
raises ``FindingError`` naming the field and the value (bounded and repr'd).

Every pattern a finding's value is checked with is ASCII-only and matched whole
(``re.ASCII`` + ``fullmatch``): no Unicode digit in an account or Region, no trailing
newline after an ARN or a control id.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from asr import limits, solution

SECURITY_HUB = "Security Hub"
CONSOLIDATED_STANDARD = "security-control"
CONSOLIDATED_VERSION = "2.0.0"

# Validators: used with fullmatch only (see the module docstring).
_ACCOUNT = solution.ACCOUNT_ID
_REGION = solution.REGION
_PRODUCT_ARN = solution.validator(
    r"arn:(aws|aws-cn|aws-us-gov):securityhub:[a-z0-9-]+:[0-9]{0,12}:product/[A-Za-z0-9_.+/-]+"
)
_CONTROL_ARN = solution.validator(
    r"arn:(?:aws|aws-cn|aws-us-gov):securityhub:[a-z0-9-]+:[0-9]{12}:control/"
    r"(?P<standard>[a-z0-9-]+)/v/(?P<version>[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})/"
    r"(?P<control>[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*)"
)
_CONTROL_ID = solution.validator(r"[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*")
#: ASFF bounds Id and GeneratorId to 512 characters, Description to 1024 (Title is shorter):
#: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html
#: Values the orchestrator puts into names (SSM parameters and documents, IAM roles) are
#: refused beyond these bounds, naming the field, before any AWS call could fail on them.
MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 1024
#: Our bounds (the longest in any standard today: PCI.AutoScaling.1, 17 characters;
#: aws-foundational-security-best-practices, 40): a control runbook name stays within SSM's
#: 128 characters and the per-control role name within IAM's 64 for every shipped playbook.
MAX_CONTROL_ID_CHARS = 32
MAX_STANDARD_CHARS = 128
_SSM_INVALID = re.compile(r"[^A-Za-z0-9_.\-]")


class FindingError(ValueError):
    """A finding the orchestrator cannot act on; the message names the field and value."""

    def __init__(self, path: str, value: Any, problem: str) -> None:
        super().__init__(f"finding field {path} {problem} (got {limits.shown(value)})")
        self.path = path


def clean_ssm(value: str) -> str:
    """A safe SSM parameter path segment (the reference's clean_ssm, rewritten)."""
    text = "".join(ch for ch in str(value) if unicodedata.category(ch)[0] != "C")
    text = text.replace("..", "").replace("/", "-").replace("\\", "-")
    text = _SSM_INVALID.sub("-", text)
    return text if len(text) >= 2 else "unknown"


def _get(raw: dict[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _text(
    raw: dict[str, Any],
    path: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
    max_chars: int | None = None,
) -> str:
    value = _get(raw, path)
    if value is None or value == "":
        if required:
            raise FindingError(path, value, "is missing")
        return ""
    if not isinstance(value, str):
        raise FindingError(path, value, f"must be a string, not {type(value).__name__}")
    if limits.clean(value) is not value:  # a lone surrogate: not text Security Hub can hold, nor AWS take
        raise FindingError(path, value, "is not UTF-8 text (it holds a lone surrogate)")
    if pattern is not None and pattern.fullmatch(value) is None:
        raise FindingError(path, value, f"does not match {pattern.pattern}")
    if max_chars is not None and len(value) > max_chars:
        raise FindingError(path, value, f"is longer than {max_chars} characters ({len(value)})")
    return value


@dataclass(frozen=True)
class Finding:
    raw: dict[str, Any] = field(repr=False)
    id: str
    product_arn: str
    account: str
    region: str  # Region of the finding (where Security Hub holds it)
    resource_region: str  # Region of the resource: where the remediation runs
    resource_type: str
    resource_id: str
    title: str
    description: str
    severity: str
    workflow_status: str
    product_name: str
    generator_id: str
    partition: str
    standard_name: str = ""  # long name as in findings, e.g. security-control
    standard_version: str = ""
    control_id: str = ""
    security_control_id: str = ""

    @property
    def security_hub(self) -> bool:
        return self.product_name == SECURITY_HUB

    @property
    def uuid(self) -> str:
        return self.id.rsplit("/finding/", 1)[-1]

    @property
    def affected_object(self) -> str:
        return f"{self.resource_type} {self.resource_id}".strip()

    @classmethod
    def parse(cls, raw: Any) -> Finding:
        if not isinstance(raw, dict):
            raise FindingError("Finding", raw, f"must be an object, not {type(raw).__name__}")
        finding_id = _text(raw, "Id", max_chars=MAX_ID_CHARS)
        product_arn = _text(raw, "ProductArn", pattern=_PRODUCT_ARN)
        partition = product_arn.split(":")[1]
        account = _text(raw, "AwsAccountId", pattern=_ACCOUNT)
        resources = raw.get("Resources")
        if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
            raise FindingError("Resources", resources, "must be a non-empty list of resources")
        region = _text(raw, "Region", required=False) or product_arn.split(":")[3]
        if _REGION.fullmatch(region) is None:
            raise FindingError("Region", region, "is not a Region")
        resource_region = _text(raw, "Resources.0.Region", required=False, pattern=_REGION) or region
        product_fields = raw.get("ProductFields") or {}
        if not isinstance(product_fields, dict):
            raise FindingError("ProductFields", product_fields, "must be an object")
        product_name = product_fields.get("aws/securityhub/ProductName") or raw.get("ProductName") or ""
        if not isinstance(product_name, str):
            raise FindingError("ProductFields.aws/securityhub/ProductName", product_name, "must be a string")
        severity = _get(raw, "Severity.Label") or ""
        workflow = _get(raw, "Workflow.Status") or raw.get("WorkflowState") or "NEW"
        if not isinstance(workflow, str):
            raise FindingError("Workflow.Status", workflow, "must be a string")
        values: dict[str, Any] = dict(
            raw=raw,
            id=finding_id,
            product_arn=product_arn,
            account=account,
            region=region,
            resource_region=resource_region,
            resource_type=_text(raw, "Resources.0.Type", required=False),
            resource_id=_text(raw, "Resources.0.Id"),
            title=_text(raw, "Title", required=False, max_chars=MAX_TITLE_CHARS),
            description=_text(raw, "Description", required=False),
            severity=severity if isinstance(severity, str) else "",
            workflow_status=workflow,
            product_name=product_name,
            generator_id=_text(raw, "GeneratorId", required=False, max_chars=MAX_ID_CHARS),
            partition=partition,
            security_control_id=_text(
                raw,
                "Compliance.SecurityControlId",
                required=False,
                pattern=_CONTROL_ID,
                max_chars=MAX_CONTROL_ID_CHARS,
            ),
        )
        if product_name == SECURITY_HUB:
            values.update(_standard_of(raw, product_fields))
        return cls(**values)


def _standard_of(raw: dict[str, Any], product_fields: dict[str, Any]) -> dict[str, str]:
    control_arn = product_fields.get("StandardsControlArn")
    if control_arn is not None:
        if not isinstance(control_arn, str):
            raise FindingError("ProductFields.StandardsControlArn", control_arn, "must be a string")
        match = _CONTROL_ARN.fullmatch(control_arn)
        if not match:
            raise FindingError(
                "ProductFields.StandardsControlArn",
                control_arn,
                "is not arn:<partition>:securityhub:<region>:<account>:control/<standard>/v/<version>/<control>",
            )
        if len(match["standard"]) > MAX_STANDARD_CHARS or len(match["control"]) > MAX_CONTROL_ID_CHARS:
            raise FindingError(
                "ProductFields.StandardsControlArn",
                control_arn,
                f"names a standard longer than {MAX_STANDARD_CHARS} or a control longer than "
                f"{MAX_CONTROL_ID_CHARS} characters",
            )
        return {
            "standard_name": match["standard"],
            "standard_version": match["version"],
            "control_id": match["control"],
        }
    control = _text(
        raw, "Compliance.SecurityControlId", required=False, pattern=_CONTROL_ID, max_chars=MAX_CONTROL_ID_CHARS
    )
    if not control:
        raise FindingError(
            "ProductFields.StandardsControlArn",
            None,
            "is missing, and so is Compliance.SecurityControlId: the finding names no control",
        )
    return {
        "standard_name": CONSOLIDATED_STANDARD,
        "standard_version": CONSOLIDATED_VERSION,
        "control_id": control,
    }


def summary(finding: Finding | None, raw: Any = None) -> dict[str, str]:
    """The ``finding`` object of notifications (keys as the reference and the guide)."""
    if finding is None:
        source = raw if isinstance(raw, dict) else {}

        def text(key: str) -> str:
            value = source.get(key)
            return value if isinstance(value, str) else ""

        return {
            "finding_id": text("Id").rsplit("/finding/", 1)[-1],
            "finding_description": text("Description"),
            "standard_name": "",
            "standard_version": "",
            "standard_control": "",
            "title": text("Title"),
            "region": text("Region"),
            "account": text("AwsAccountId"),
            "finding_arn": text("Id"),
        }
    return {
        "finding_id": finding.uuid,
        "finding_description": finding.description,
        "standard_name": finding.standard_name,
        "standard_version": finding.standard_version,
        "standard_control": finding.control_id,
        "title": finding.title,
        "region": finding.resource_region,
        "account": finding.account,
        "finding_arn": finding.id,
    }
