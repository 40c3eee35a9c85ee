"""ParseInput: the first step of every control runbook (embedded by the generator).

Validates the Security Hub finding the orchestrator hands over, extracts the id of
the resource to remediate with the runbook's resource-id regex, and resolves the
values the remediation needs: Security Hub control parameters (read from the
finding's AWS Config rule, else the runbook's defaults) and, for the CIS
monitoring controls, the metric filter of the finding's control.

Any problem raises ValueError naming the field and the value, so nothing is
remediated for a finding this runbook was not made for.
"""

from __future__ import annotations

import json
import re

PARTITION = r"(aws|aws-cn|aws-us-gov)"
REGION = r"([a-z]{2}(?:-gov)?-[a-z]+-[0-9])"
# (no "{{" anywhere in this script: SSM would read it as a document variable)
# Every pattern is ASCII-only and matched whole (fullmatch): no Unicode digit, no trailing newline.
FINDING_ID = re.compile(
    "arn:" + PARTITION + ":securityhub:" + REGION + r":([0-9]{12}):"
    r"(?:subscription/([a-z0-9-]+)/v/([0-9]+\.[0-9]+\.[0-9]+)/([A-Za-z0-9.-]+)|security-control/([A-Za-z0-9.-]+))"
    r"/finding/([A-Za-z0-9-]+)",
    re.ASCII,
)
PRODUCT_ARN = re.compile("arn:" + PARTITION + ":securityhub:" + REGION + "::product/aws/securityhub", re.ASCII)
ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
REGION_ONLY = re.compile(REGION, re.ASCII)
ACCOUNT_RESOURCE = re.compile(r"AWS::::Account:(.*)", re.ASCII | re.DOTALL)
# DescribeConfigRules ConfigRuleNames: 1..128 characters, .*\S.*
# https://docs.aws.amazon.com/config/latest/APIReference/API_DescribeConfigRules.html
CONFIG_RULE_NAME_CHARS = 128
CONSOLIDATED = "security-control"


def _shown(value: object) -> str:
    """repr of a value for an error message: bounded, always encodable."""
    text = repr(value)
    if len(text) > 200:
        text = text[:197] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _refuse(field: str, value: object, problem: str) -> ValueError:
    return ValueError(f"finding field {field} {problem} (got {_shown(value)})")


def _require(finding: dict, key: str) -> object:
    value = finding.get(key)
    if value is None or (isinstance(value, str | list | dict) and not value):
        raise _refuse(key, value, "is missing")
    return value


def parse_finding_id(finding_id: str) -> dict:
    """Standard, version and control of a finding id (standard-subscription or consolidated shape)."""
    match = FINDING_ID.fullmatch(finding_id) if isinstance(finding_id, str) else None
    if not match:
        raise _refuse(
            "Id",
            finding_id,
            "is neither a standard-subscription finding id "
            "(arn:<partition>:securityhub:<region>:<account>:"
            "subscription/<standard>/v/<version>/<control>/finding/<id>) "
            "nor a consolidated security-control finding id "
            "(arn:<partition>:securityhub:<region>:<account>:security-control/<control>/finding/<id>)",
        )
    partition, region, account, std, version, std_control, sc_control, _ = match.groups()
    if sc_control:
        return {
            "partition": partition,
            "region": region,
            "account": account,
            "standard": CONSOLIDATED,
            "version": None,
            "control_id": sc_control,
        }
    return {
        "partition": partition,
        "region": region,
        "account": account,
        "standard": std,
        "version": version,
        "control_id": std_control,
    }


def _resource_location(resource: dict, finding: dict) -> tuple[str, str]:
    """Account and Region of the resource: the finding's own, never another.

    A resource whose ARN (or AWS::::Account:<id>) names another account than the finding's
    AwsAccountId, or another Region than the finding's Region, is refused: the orchestrator
    trusts a finding only for its own account (the account that imported it) and Region.
    ARNs of global resources (IAM, S3, ...) leave account or Region empty: nothing to compare.
    """
    rid = resource["Id"]
    account = finding["AwsAccountId"]
    region = finding.get("Region")
    if not isinstance(region, str) or not REGION_ONLY.fullmatch(region):
        raise _refuse("Region", region, "is not a Region")
    declared = resource.get("Region")
    if declared not in (None, "") and declared != region:
        raise _refuse(
            "Resources[0].Region", declared, f"is not the finding's Region {region}: the resource must be in it"
        )
    parts = rid.split(":")
    if rid.startswith("arn:") and len(parts) > 5:
        if parts[4] and parts[4] != account:
            raise _refuse(
                "Resources[0].Id", rid, f"names account {parts[4]!r}, not the finding's AwsAccountId {account}"
            )
        if parts[3] and parts[3] != region:
            raise _refuse("Resources[0].Id", rid, f"names Region {parts[3]!r}, not the finding's Region {region}")
    whole = ACCOUNT_RESOURCE.fullmatch(rid)
    if whole and whole.group(1) != account:
        raise _refuse(
            "Resources[0].Id", rid, f"names account {whole.group(1)!r}, not the finding's AwsAccountId {account}"
        )
    return account, region


def _config_rule_parameters(finding: dict) -> dict:
    """InputParameters of the AWS Config rule behind the finding ({} when it has none)."""
    fields = finding.get("ProductFields") or {}
    if not isinstance(fields, dict):
        raise _refuse("ProductFields", fields, "must be an object")
    if fields.get("RelatedAWSResources:0/type") != "AWS::Config::ConfigRule":
        return {}
    name = fields.get("RelatedAWSResources:0/name")
    if name is None or name == "":
        return {}
    if not isinstance(name, str) or len(name) > CONFIG_RULE_NAME_CHARS or not name.strip():
        raise _refuse(
            "ProductFields.RelatedAWSResources:0/name",
            name,
            "must be the name of an AWS Config rule (1-128 characters)",
        )
    import boto3
    from botocore.exceptions import ClientError

    try:
        rules = boto3.client("config").describe_config_rules(ConfigRuleNames=[name])["ConfigRules"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "NoSuchConfigRuleException":
            return {}
        raise
    if not rules:
        return {}
    try:
        params = json.loads(rules[0].get("InputParameters") or "{}")
    except json.JSONDecodeError:
        raise ValueError(f"Config rule {name!r} has InputParameters that are not JSON") from None
    return params if isinstance(params, dict) else {}


def convert(value: object, kind: str, name: str) -> object:
    """A control parameter value (Config gives text) as the remediation parameter's type."""
    if kind == "Integer":
        if isinstance(value, bool) or not re.fullmatch(r"\s*-?\d+\s*", str(value)):
            raise ValueError(f"control parameter {name} value {value!r} is not an integer")
        return int(str(value).strip())
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"control parameter {name} value {value!r} is not true or false")
        return text == "true"
    if kind == "StringList":
        if isinstance(value, list):
            return [str(v).strip() for v in value]
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_event(event: dict, _context: object = None) -> dict:
    finding = event.get("Finding")
    if isinstance(finding, str):
        try:
            finding = json.loads(finding)
        except (ValueError, RecursionError):
            raise _refuse("Finding", finding, "is not a JSON object") from None
    if not isinstance(finding, dict):
        raise _refuse("Finding", finding, "must be an object")

    finding_id = _require(finding, "Id")
    parsed = parse_finding_id(finding_id)
    account = _require(finding, "AwsAccountId")
    if not isinstance(account, str) or not ACCOUNT.fullmatch(account):
        raise _refuse("AwsAccountId", account, "is not a 12-digit account id")
    if account != parsed["account"]:
        raise _refuse("AwsAccountId", account, f"differs from the account {parsed['account']} of its Id")
    product_arn = _require(finding, "ProductArn")
    if not isinstance(product_arn, str) or not PRODUCT_ARN.fullmatch(product_arn):
        raise _refuse("ProductArn", product_arn, "is not arn:<partition>:securityhub:<region>::product/aws/securityhub")

    runbook_standard = event.get("standard_long_name")
    runbook_version = event.get("standard_version")
    if (
        parsed["standard"] != CONSOLIDATED
        and runbook_standard != CONSOLIDATED
        and (parsed["standard"] != runbook_standard or parsed["version"] != runbook_version)
    ):
        raise ValueError(
            f"finding field Id: finding {finding_id} is from standard {parsed['standard']} {parsed['version']}; "
            f"this runbook remediates {runbook_standard} {runbook_version}"
        )
    control_id = parsed["control_id"]
    expected = list(event.get("expected_control_id") or [])
    if control_id not in expected:
        raise ValueError(
            f"finding field Id: finding control id {control_id!r} is not one this runbook remediates "
            f"(expected {', '.join(expected)}) (got {_shown(finding_id)})"
        )

    resources = finding.get("Resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
        raise _refuse("Resources", resources, "is missing or empty")
    resource = resources[0]
    resource_id = resource.get("Id")
    if not isinstance(resource_id, str) or not resource_id:
        raise _refuse("Resources[0].Id", resource_id, "is missing or not a string")
    if not _encodes(resource_id):
        raise _refuse("Resources[0].Id", resource_id, "is not valid Unicode text (a lone surrogate)")
    resource_type = resource.get("Type", "")
    if not isinstance(resource_type, str) or len(resource_type) > 256 or not _encodes(resource_type):
        raise _refuse("Resources[0].Type", resource_type, "must be a resource type name")
    pattern = event.get("parse_id_pattern") or ""
    group = int(event.get("resource_index", 0))
    if pattern:
        # ASCII and whole: a Unicode digit or a trailing newline never matches (asr/playbooks/data.py).
        match = re.fullmatch(pattern, resource_id, re.ASCII)
        if not match:
            shown = _shown(resource_id)
            raise ValueError(f"finding field Resources[0].Id: resource id {shown} does not match {pattern}")
        value = match.group(group)
        matches = [m or "" for m in match.groups()]
    else:
        value, matches = resource_id, []
    if not value:
        raise _refuse("Resources[0].Id", resource_id, "holds no resource id")
    remediation_account, remediation_region = _resource_location(resource, finding)

    params: dict = {}
    wanted = event.get("control_params") or {}
    if wanted:
        given = _config_rule_parameters(finding)
        for out, spec in wanted.items():
            raw = given.get(spec["name"], spec["default"])
            params[out] = convert(raw, spec.get("type", "String"), spec["name"])

    metric_filter: dict = {}
    filters = event.get("metric_filters") or {}
    if filters:
        metric_filter = filters.get(control_id) or {}
        if not metric_filter:
            raise ValueError(f"no metric filter is defined for control {control_id}")

    return {
        "finding_id": finding_id,
        "product_arn": product_arn,
        "control_id": control_id,
        "standard": parsed["standard"],
        "account_id": account,
        "resource_id": value,
        "matches": matches,
        "remediation_account": remediation_account,
        "remediation_region": remediation_region,
        "affected_object": {"Type": resource_type, "Id": value, "OutputKey": "Remediation.Output"},
        "params": params,
        "metric_filter": metric_filter,
        "testmode": "testmode" in finding,
    }
